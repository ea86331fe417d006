import { type Change, changesBetween, SharedChanges } from './changes.js';
import { flowKey, flowName } from './describe.js';
import type { Journey } from './journeys.js';
import { LatencySample } from './latency.js';
import { orderSightings } from './path.js';
import { Kind, NONE, type Sighting } from './sighting.js';

/**
 * One sighting of a traced packet, with what changed since the previous one. The changes are
 * worked out when someone asks (the JSON report, diff): the text report needs only the flows'.
 */
export class TracedSighting {
  private cachedChanges: readonly Change[] | undefined;

  constructor(
    readonly sighting: Sighting,
    readonly previous: Sighting | null,
  ) {}

  /** Corrected time since the previous sighting; null for the first. */
  get deltaNs(): number | null {
    return this.previous === null ? null : this.sighting.correctedNs - this.previous.correctedNs;
  }

  get changes(): readonly Change[] {
    this.cachedChanges ??= this.previous === null ? [] : changesBetween(this.previous, this.sighting);
    return this.cachedChanges;
  }
}

/** A packet followed over the capture points. */
export interface TracedPacket {
  readonly id: number;
  readonly flow: Flow;
  readonly sightings: readonly TracedSighting[];
  /** The packet's flow went on from `after` to `before`, and this packet was not seen there. */
  readonly lost: { readonly after: number; readonly before: number } | null;
  /**
   * Not lost but split: fragments with its IP ID were seen at `before` instead (a packet
   * larger than the next device's MTU, without DF).
   */
  readonly fragmented: { readonly after: number; readonly before: number } | null;
  /** Points between its first and last sighting where it was not captured. */
  readonly missed: readonly number[];
}

/** A hop of a flow: between two neighbouring points of its path. */
export class Hop {
  packets = 0;
  readonly latency = new LatencySample();
  private readonly shared = new SharedChanges();

  constructor(
    readonly from: number,
    readonly to: number,
  ) {}

  add(before: Sighting, after: Sighting): void {
    this.packets += 1;
    this.latency.add(after.correctedNs - before.correctedNs);
    this.shared.add(before, after);
  }

  /** The changes all packets over this hop share (the length: the same difference). */
  get changes(): Change[] {
    return this.shared.changes;
  }

  /** Fields that changed for some packets and not, or not in the same way, for others. */
  get varying(): string[] {
    return this.shared.varying;
  }
}

/** Packets with the same inner 5-tuple (or ARP/L2 identity) going one way. */
export class Flow {
  packets = 0;
  lost = 0;
  firstNs = Infinity;
  lastNs = -Infinity;
  readonly vnis = new Set<number>();
  /** Where its packets go (inner IPv4 destination, negative -1-ip going backward), for loss decisions. */
  destination: number | null = null;
  /** Points its packets were seen at, in the order they pass them. */
  readonly path: number[] = [];
  private readonly hopsByKey = new Map<number, Hop>();

  constructor(
    readonly id: number,
    readonly key: string,
    readonly name: string,
    /** Travels along the point order (true) or against it. */
    readonly forward: boolean,
  ) {}

  get hops(): Hop[] {
    const hops: Hop[] = [];
    for (let i = 1; i < this.path.length; i++) {
      const hop = this.hopsByKey.get(this.path[i - 1]! * 4096 + this.path[i]!);
      if (hop !== undefined) hops.push(hop);
    }
    return hops;
  }

  hopIfAny(from: number, to: number): Hop | undefined {
    return this.hopsByKey.get(from * 4096 + to);
  }

  hop(from: number, to: number): Hop {
    const key = from * 4096 + to;
    let hop = this.hopsByKey.get(key);
    if (hop === undefined) {
      hop = new Hop(from, to);
      this.hopsByKey.set(key, hop);
    }
    return hop;
  }

  /** Adds the points of a packet's sightings to the path, keeping the path in travel order. */
  extendPath(sightings: readonly Sighting[], position: readonly number[]): void {
    let grew = false;
    for (const s of sightings) {
      if (!this.path.includes(s.point)) {
        this.path.push(s.point);
        grew = true;
      }
    }
    if (grew) this.path.sort((a, b) => (this.forward ? position[a]! - position[b]! : position[b]! - position[a]!));
  }
}

/** When each point's capture started and ended, in corrected ns (end: Infinity while reading). */
export interface CaptureSpan {
  startNs: number;
  endNs: number;
}

/**
 * Turns complete journeys into traced packets and flows.
 *
 * Whether a packet was lost depends on how far its flow goes, which the packets after it may
 * show, so a journey waits `holdNs` of capture time before it is decided and handed out. That
 * keeps memory bounded by the window plus the hold, like the matcher's, while a flow's path is
 * known from every packet in that span.
 */
export class FlowTable {
  readonly flows = new Map<string, Flow>();
  private pending: Journey[] = [];
  private pendingHead = 0;
  /**
   * Per destination (inner IPv4 address and direction), the flow that went farthest. A flow
   * of one packet that was dropped has only the points it reached; packets to the same place
   * show where it should have gone on.
   */
  private readonly farthestTo = new Map<number, Flow>();
  /** Recent fragments by point, protocol and IP ID, with when they were seen. */
  private readonly fragments = new Map<string, number>();

  constructor(
    /** Position of each point in the path order. */
    private readonly position: readonly number[],
    private readonly spans: readonly CaptureSpan[],
    private readonly windowNs: number,
    private readonly holdNs: number,
    /** Receives every packet, or with `onlyLost` only the lost ones (cheaper: no objects). */
    private readonly onPacket: (packet: TracedPacket) => void,
    private readonly onlyLost = false,
  ) {}

  add(journey: Journey): void {
    orderSightings(journey, this.position);
    const sightings = journey.sightings;
    const forward = journey.forward;
    const first = sightings[0]!;
    const key = flowKey(first);
    let flow = this.flows.get(key);
    if (flow === undefined) {
      flow = new Flow(this.flows.size + 1, key, flowName(first), forward);
      this.flows.set(key, flow);
    }
    flow.extendPath(sightings, this.position);
    if (first.kind === Kind.Ipv4) {
      const destination = forward ? first.ipDst : -1 - first.ipDst;
      const farthest = this.farthestTo.get(destination);
      if (farthest === undefined || farthest.path.length < flow.path.length) this.farthestTo.set(destination, flow);
      flow.destination = destination;
    }
    for (const s of sightings) if (s.fragment) this.fragments.set(fragmentKey(s.point, s), s.correctedNs);
    journey.flow = flow;
    this.pending.push(journey);
  }

  /** Decides every journey that has waited long enough by capture time `nowNs`. */
  decideBefore(nowNs: number): void {
    const pending = this.pending;
    let head = this.pendingHead;
    const limit = nowNs - this.holdNs;
    while (head < pending.length && pending[head]!.lastNs < limit) {
      const journey = pending[head]!;
      head += 1;
      this.decide(journey, journey.flow!, journey.sightings);
    }
    if (head > 4096 && head * 2 > pending.length) {
      this.pending = pending.slice(head);
      head = 0;
      for (const [key, seenNs] of this.fragments) if (seenNs < limit - this.windowNs) this.fragments.delete(key);
    }
    this.pendingHead = head;
  }

  finish(): void {
    this.decideBefore(Infinity);
  }

  /**
   * How long after `from` a packet should show up at `to`: the slowest this hop has been for
   * the flow, or the window before it was seen. A capture that ended before then may simply
   * have stopped too early to see the packet, which is no loss.
   */
  private expectedDelay(flow: Flow, from: number, to: number): number {
    const max = flow.hopIfAny(from, to)?.latency.max;
    return max === undefined || max === -Infinity ? this.windowNs : Math.min(this.windowNs, Math.max(0, max));
  }

  private decide(journey: Journey, flow: Flow, sightings: Sighting[]): void {
    flow.packets += 1;
    if (journey.firstNs < flow.firstNs) flow.firstNs = journey.firstNs;
    if (journey.lastNs > flow.lastNs) flow.lastNs = journey.lastNs;
    for (let i = 0; i < sightings.length; i++) {
      const s = sightings[i]!;
      if (s.vni !== NONE) flow.vnis.add(s.vni);
      if (i > 0) flow.hop(sightings[i - 1]!.point, s.point).add(sightings[i - 1]!, s);
    }

    // Lost: the flow (or another to the same place) goes on past this packet's last point, and
    // the next point was capturing at the time.
    const last = sightings[sightings.length - 1]!;
    const farthest = flow.destination === null ? undefined : this.farthestTo.get(flow.destination);
    const guide = farthest !== undefined && farthest.path.length > flow.path.length && farthest.path.includes(last.point) ? farthest : flow;
    const path = guide.path;
    const at = path.indexOf(last.point);
    let lost: TracedPacket['lost'] = null;
    let fragmented: TracedPacket['fragmented'] = null;
    if (at >= 0 && at < path.length - 1) {
      const next = path[at + 1]!;
      const span = this.spans[next]!;
      const fragmentSeen = this.fragments.get(fragmentKey(next, last));
      if (!last.fragment && fragmentSeen !== undefined && Math.abs(fragmentSeen - last.correctedNs) <= this.windowNs) {
        fragmented = { after: last.point, before: next };
      } else if (span.startNs <= last.correctedNs && span.endNs >= last.correctedNs + this.expectedDelay(guide, last.point, next)) {
        lost = { after: last.point, before: next };
        flow.lost += 1;
      }
    }
    if (this.onlyLost && lost === null) return;
    const missed: number[] = [];
    const from = flow.path.indexOf(sightings[0]!.point);
    const to = flow.path.indexOf(last.point);
    for (let i = from + 1; i < to; i++) if (!journey.seenAt(flow.path[i]!)) missed.push(flow.path[i]!);
    const traced = sightings.map((s, i) => new TracedSighting(s, i === 0 ? null : sightings[i - 1]!));
    this.onPacket({ id: journey.id, flow, sightings: traced, lost, fragmented, missed });
  }
}

/** Fragments of one original share its protocol and IP ID (and NAT changes neither). */
function fragmentKey(point: number, s: Sighting): string {
  return `${point} ${s.proto} ${s.ipId}`;
}
