import { type Change, changeKey, changesBetween } from './changes.js';
import { flowKey, flowName } from './describe.js';
import type { Journey } from './journeys.js';
import { LatencySample } from './latency.js';
import { orderSightings } from './path.js';
import { Kind, NONE, type Sighting } from './sighting.js';

/** One sighting of a traced packet, with what changed since the previous one. */
export interface TracedSighting {
  readonly sighting: Sighting;
  /** Corrected time since the previous sighting; null for the first. */
  readonly deltaNs: number | null;
  readonly changes: readonly Change[];
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
  /** Changes every packet over this hop shared so far, by changeKey; null before the first. */
  private shared: Map<string, Change> | null = null;
  /** Fields that changed for some packets and not (in the same way) for others. */
  readonly varying = new Set<string>();

  constructor(
    readonly from: number,
    readonly to: number,
  ) {}

  add(deltaNs: number, changes: readonly Change[]): void {
    this.packets += 1;
    this.latency.add(deltaNs);
    if (this.shared === null) {
      this.shared = new Map(changes.map((c) => [changeKey(c), c]));
      return;
    }
    const keys = new Set<string>();
    for (const change of changes) {
      const key = changeKey(change);
      keys.add(key);
      if (!this.shared.has(key)) this.varying.add(change.field);
    }
    for (const [key, change] of this.shared) {
      if (!keys.has(key)) {
        this.shared.delete(key);
        this.varying.add(change.field);
      }
    }
  }

  /** The changes all packets share (the length as the first packet's, same difference). */
  get changes(): Change[] {
    return [...(this.shared?.values() ?? [])];
  }
}

/** Packets with the same inner 5-tuple (or ARP/L2 identity) going one way. */
export class Flow {
  packets = 0;
  lost = 0;
  firstNs = Infinity;
  lastNs = -Infinity;
  readonly vnis = new Set<number>();
  /** Where its packets go (direction and inner IPv4 destination), for loss decisions. */
  destination: string | null = null;
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
  private pending: { journey: Journey; flow: Flow; sightings: Sighting[] }[] = [];
  private pendingHead = 0;
  /**
   * Per destination (inner IPv4 address and direction), the flow that went farthest. A flow
   * of one packet that was dropped has only the points it reached; packets to the same place
   * show where it should have gone on.
   */
  private readonly farthestTo = new Map<string, Flow>();
  /** Recent fragments by point, protocol and IP ID, with when they were seen. */
  private readonly fragments = new Map<string, number>();

  constructor(
    /** Position of each point in the path order. */
    private readonly position: readonly number[],
    private readonly spans: readonly CaptureSpan[],
    private readonly windowNs: number,
    private readonly holdNs: number,
    private readonly onPacket: (packet: TracedPacket) => void,
  ) {}

  add(journey: Journey): void {
    const { sightings, forward } = orderSightings(journey, this.position);
    const first = sightings[0]!;
    const key = flowKey(first);
    let flow = this.flows.get(key);
    if (flow === undefined) {
      flow = new Flow(this.flows.size + 1, key, flowName(first), forward);
      this.flows.set(key, flow);
    }
    flow.extendPath(sightings, this.position);
    if (first.kind === Kind.Ipv4) {
      const destination = `${forward ? '>' : '<'}${first.ipDst}`;
      const farthest = this.farthestTo.get(destination);
      if (farthest === undefined || farthest.path.length < flow.path.length) this.farthestTo.set(destination, flow);
      flow.destination = destination;
    }
    for (const s of sightings) if (s.fragment) this.fragments.set(fragmentKey(s.point, s), s.correctedNs);
    this.pending.push({ journey, flow, sightings });
  }

  /** Decides every journey that has waited long enough by capture time `nowNs`. */
  decideBefore(nowNs: number): void {
    const pending = this.pending;
    let head = this.pendingHead;
    const limit = nowNs - this.holdNs;
    while (head < pending.length && pending[head]!.journey.lastNs < limit) {
      const { journey, flow, sightings } = pending[head]!;
      head += 1;
      this.decide(journey, flow, sightings);
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

  private decide(journey: Journey, flow: Flow, sightings: Sighting[]): void {
    flow.packets += 1;
    if (journey.firstNs < flow.firstNs) flow.firstNs = journey.firstNs;
    if (journey.lastNs > flow.lastNs) flow.lastNs = journey.lastNs;
    const traced: TracedSighting[] = [];
    for (let i = 0; i < sightings.length; i++) {
      const s = sightings[i]!;
      if (s.vni !== NONE) flow.vnis.add(s.vni);
      if (i === 0) {
        traced.push({ sighting: s, deltaNs: null, changes: [] });
        continue;
      }
      const previous = sightings[i - 1]!;
      const deltaNs = s.correctedNs - previous.correctedNs;
      const changes = changesBetween(previous, s);
      flow.hop(previous.point, s.point).add(deltaNs, changes);
      traced.push({ sighting: s, deltaNs, changes });
    }

    // Lost: the flow (or another to the same place) goes on past this packet's last point, and
    // the next point was capturing at the time.
    const last = sightings[sightings.length - 1]!;
    const farthest = flow.destination === null ? undefined : this.farthestTo.get(flow.destination);
    const path = farthest !== undefined && farthest.path.length > flow.path.length && farthest.path.includes(last.point) ? farthest.path : flow.path;
    const at = path.indexOf(last.point);
    let lost: TracedPacket['lost'] = null;
    let fragmented: TracedPacket['fragmented'] = null;
    if (at >= 0 && at < path.length - 1) {
      const next = path[at + 1]!;
      const span = this.spans[next]!;
      const fragmentSeen = this.fragments.get(fragmentKey(next, last));
      if (!last.fragment && fragmentSeen !== undefined && Math.abs(fragmentSeen - last.correctedNs) <= this.windowNs) {
        fragmented = { after: last.point, before: next };
      } else if (span.startNs <= last.correctedNs && span.endNs >= last.correctedNs + this.windowNs) {
        lost = { after: last.point, before: next };
        flow.lost += 1;
      }
    }
    const missed: number[] = [];
    const from = flow.path.indexOf(sightings[0]!.point);
    const to = flow.path.indexOf(last.point);
    for (let i = from + 1; i < to; i++) if (!journey.seenAt(flow.path[i]!)) missed.push(flow.path[i]!);

    this.onPacket({ id: journey.id, flow, sightings: traced, lost, fragmented, missed });
  }
}

/** Fragments of one original share its protocol and IP ID (and NAT changes neither). */
function fragmentKey(point: number, s: Sighting): string {
  return `${point} ${s.proto} ${s.ipId}`;
}
