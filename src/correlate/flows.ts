import { type Change, type ChangeValues, changesBetween, differingColumns, SharedChanges } from './changes.js';
import { flowNameAt } from './describe.js';
import { Fifo } from './fifo.js';
import { type FlowKey, FlowIndex, flowKeyAt, ipv4FlowName, sameFlowKey } from './flow-index.js';
import { type IcmpErrorNote, isTtlExceeded } from './icmp-errors.js';
import { type Journey, JourneyPool } from './journeys.js';
import { LatencySample } from './latency.js';
import { orderSightings, sameInstant } from './path.js';
import { SegmentLog } from './resegmentation.js';
import { Kind, NONE, type Sighting, type SightingStore } from './sighting.js';

/** One sighting of a traced packet, with what changed since the previous one. */
export interface TracedSighting {
  /** A copy of the sighting's fields (the store's slot is reused after the packet is decided). */
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
  /**
   * Not lost but cut or joined: a TCP segment whose bytes were seen at `before` in other
   * packets (segmentation or receive offload, GSO/GRO: see resegmentation.ts).
   */
  readonly resegmented: { readonly after: number; readonly before: number } | null;
  /**
   * Not lost but expired: it came to `after` with a TTL of 1 (or 0), and what lies before
   * `before` routes (it took a TTL off the flow's packets): a traceroute or mtr probe.
   */
  readonly expired: { readonly after: number; readonly before: number } | null;
  /** The ICMP error a router or host sent back about it: why it went no farther. */
  readonly icmpError: IcmpErrorNote | null;
  /** For an ICMP error: the traced packet it quotes, if that was seen. */
  readonly quotes: number | null;
  /** Points between its first and last sighting where it was not captured. */
  readonly missed: readonly number[];
}

/**
 * A decided journey as the store holds it, for consumers that work on slots (diff): valid only
 * during the call, as the slots are reused afterwards.
 */
export interface DecidedJourney {
  readonly journey: Journey;
  readonly flow: Flow;
  readonly store: SightingStore;
  readonly lost: TracedPacket['lost'];
  readonly fragmented: TracedPacket['fragmented'];
  readonly resegmented: TracedPacket['resegmented'];
  readonly expired: TracedPacket['expired'];
  readonly missed: readonly number[];
  /** At [i]: differingColumns of the hop from sighting i - 1 to i (changes.ts), found once for the flow's counts; not found by a table that counts for losses only. */
  readonly differing: Int32Array;
}

const NOTHING_MISSED: readonly number[] = [];
/**
 * The empty start of a flow's lists, shared: each list is replaced, never changed, when it
 * grows (grown, withPoint), and six empty arrays per flow were 100 bytes of 70k flows.
 */
const NONE_YET: readonly never[] = [];

/** Delays kept per hop for the median: all traffic one way, and one flow. */
const DIRECTION_RESERVOIR = 65536;
const FLOW_RESERVOIR = 1024;

/** A hop of a flow: between two neighbouring points of its path. */
export class Hop {
  packets = 0;
  /** A packet's TTL went down over it: a router lies between its two points. */
  routes = false;
  readonly latency: LatencySample;
  /** None when the flow table counts only for loss decisions. */
  private readonly shared: SharedChanges | null;

  constructor(
    readonly from: number,
    readonly to: number,
    /** Delays kept for the median; 0 keeps count, min and max, and no changes either. */
    reservoir: number,
  ) {
    this.latency = new LatencySample(reservoir);
    this.shared = reservoir === 0 ? null : new SharedChanges();
  }

  /** `differing`: differingColumns(store, before, after), the same for every flow that counts the packet. */
  add(store: SightingStore, before: number, after: number, differing: number): void {
    this.packets += 1;
    this.latency.add(store.correctedNs[after]! - store.correctedNs[before]!);
    if (!this.routes && store.ttl[after]! !== NONE && store.ttl[after]! < store.ttl[before]!) this.routes = true;
    this.shared?.add(store, before, after, differing);
  }

  /** The changes all packets over this hop share (the length: the same difference). */
  get changes(): Change[] {
    return this.shared?.changes ?? [];
  }

  /** The same changes as numbers, for writing them without Change records; null where none are kept. */
  get changeValues(): ChangeValues | null {
    return this.shared?.sharedValues ?? null;
  }

  /** Fields that changed for some packets and not, or not in the same way, for others. */
  get varying(): string[] {
    return this.shared?.varying ?? [];
  }
}

/** Packets with the same inner 5-tuple (or ARP/L2 identity) going one way. */
export class Flow {
  packets = 0;
  lost = 0;
  /** Its TCP segments cut or joined on the way (GSO/GRO), which are not lost. */
  resegmented = 0;
  /** Its packets whose TTL ran out at a router on the way (traceroute, mtr), which are not lost. */
  expired = 0;
  /** Its packets an ICMP error was sent back about, and the latest such error. */
  icmpErrors = 0;
  icmpError: IcmpErrorNote | null = null;
  /** For a flow of ICMP errors: the flows whose packets they quote (almost always one), in the order first seen. */
  quotedFlows: readonly Flow[] = NONE_YET;
  firstNs = Infinity;
  lastNs = -Infinity;
  /** VNIs its packets were seen with (almost always one), in the order first seen. */
  vnis: readonly number[] = NONE_YET;
  /** The flows to the same place (inner IPv4 destination and direction) as its latest packet, for loss decisions. */
  destination: Destination | null = null;
  /** Points its packets were seen at, in the order they pass them. */
  path: readonly number[] = NONE_YET;
  /**
   * Whether a packet has shown which way the flow goes: one seen at two points or more (at its
   * ends at once: with the reverse flow's direction known). Until then `forward` is a guess:
   * against its reverse flow, or along the path.
   */
  directionKnown = false;
  /**
   * The flow the other way (the replies: addresses and ports swapped, as the packets of this
   * flow had them where they were last seen, after any NAT on the way), once both are seen.
   */
  reverse: Flow | null = null;
  /** The most sightings a packet of it had when it was looked at for NAT (FlowTable.noteTranslation). */
  sightingsCheckedForNat = 0;
  /** Its first packet asked for an answer: a TCP SYN, an ICMP echo request, a DNS query (see asksForReply). */
  asksForReply = false;
  /**
   * It asked, got no reply and no ICMP error, and every capture on its path stopped less than the
   * window after its first packet: the reply may simply have come after the captures ended, so
   * it is not called unanswered (set by FlowTable.finish).
   */
  askedAtCaptureEnd = false;
  /** Its hops, found by a linear search: a path has a handful. */
  private hopList: readonly Hop[] = NONE_YET;
  /** pathBack()'s answer and the path it was made from. */
  private backward: readonly number[] = NONE_YET;
  private backwardOf: readonly number[] = NONE_YET;

  constructor(
    readonly id: number,
    /**
     * Its name, or for an IPv4 flow the key it is named from when first asked (ipv4FlowName):
     * few of a diff's flows are ever named, and naming each as it came took 0.1 s of the main
     * thread's 2.9 s on two 1M-packet captures.
     */
    private nameOrKey: string | FlowKey,
    /** Travels along the point order (true) or against it; see directionKnown. */
    public forward: boolean,
    /** Delays each hop keeps for its median. */
    private readonly reservoir = FLOW_RESERVOIR,
  ) {}

  /** "TCP 10.244.1.2:41234 → 10.244.2.2:80": see flowName (describe.ts). */
  get name(): string {
    if (typeof this.nameOrKey !== 'string') this.nameOrKey = flat(ipv4FlowName(this.nameOrKey)!);
    return this.nameOrKey;
  }

  /**
   * A packet seen at two points or more went this way: the flow's direction from now on. The
   * flow the other way, if its direction is still a guess, is now guessed to go against it.
   */
  learnDirection(forward: boolean): void {
    this.directionKnown = true;
    this.guessDirection(forward);
    const reverse = this.reverse;
    if (reverse !== null && !reverse.directionKnown) reverse.guessDirection(!forward);
  }

  /**
   * Links it with `reverse`, the flow of its replies. Whichever of the two has not shown its
   * direction yet is guessed to go against the other.
   */
  pairWith(reverse: Flow): void {
    this.reverse = reverse;
    reverse.reverse = this;
    if (this.directionKnown && !reverse.directionKnown) reverse.guessDirection(!this.forward);
    else if (reverse.directionKnown && !this.directionKnown) this.guessDirection(!reverse.forward);
  }

  private guessDirection(forward: boolean): void {
    if (forward === this.forward) return;
    this.forward = forward;
    // The path is kept in travel order: the guess had it the other way round.
    this.path = [...this.path].reverse();
  }

  /**
   * It asked for an answer and no flow the other way was seen: the replies never came, or never
   * came past a capture point. When every request stops at the same hop (a VNI or port that
   * does not match, a firewall on the underlay), nothing is lost by the rule for losses, as no
   * packet of the flow shows where it should have gone next: this says so instead. Not said of
   * a flow that asked just before the captures stopped (askedAtCaptureEnd).
   */
  get unanswered(): boolean {
    return this.asksForReply && this.reverse === null && !this.askedAtCaptureEnd;
  }

  /** Its path from the far end: the way its replies should go. */
  pathBack(): readonly number[] {
    if (this.backwardOf !== this.path) {
      this.backward = [...this.path].reverse();
      this.backwardOf = this.path;
    }
    return this.backward;
  }

  /** The hops between neighbouring points of its path, in path order. */
  get hops(): Hop[] {
    const hops: Hop[] = [];
    for (let i = 1; i < this.path.length; i++) {
      const hop = this.hopIfAny(this.path[i - 1]!, this.path[i]!);
      if (hop !== undefined) hops.push(hop);
    }
    return hops;
  }

  hopIfAny(from: number, to: number): Hop | undefined {
    for (const hop of this.hopList) if (hop.from === from && hop.to === to) return hop;
    return undefined;
  }

  /** Its hop over the link between two points, crossed either way (a guide that went the other way: a reply's requests). */
  hopOverLink(a: number, b: number): Hop | undefined {
    return this.hopIfAny(a, b) ?? this.hopIfAny(b, a);
  }

  hop(from: number, to: number): Hop {
    let hop = this.hopIfAny(from, to);
    if (hop === undefined) {
      hop = new Hop(from, to, this.reservoir);
      this.hopList = grown(this.hopList, hop);
    }
    return hop;
  }

  /** Adds the points of a packet's sightings to the path, keeping the path in travel order. */
  extendPath(sightings: readonly number[], store: SightingStore, position: readonly number[]): void {
    for (const slot of sightings) {
      const point = store.point[slot]!;
      if (!this.path.includes(point)) this.path = this.withPoint(point, position);
    }
  }

  /**
   * A copy of the path with `point` in its place in travel order. Every new flow's path grows
   * this way, a point or two at a time: sorting for it cost a work array per call.
   */
  private withPoint(point: number, position: readonly number[]): number[] {
    const path = this.path;
    const sign = this.forward ? 1 : -1;
    let at = 0;
    while (at < path.length && sign * (position[path[at]!]! - position[point]!) < 0) at += 1;
    // Exactly as long as needed (see grown()).
    const extended = new Array<number>(path.length + 1);
    for (let i = 0; i < at; i++) extended[i] = path[i]!;
    extended[at] = point;
    for (let i = at; i < path.length; i++) extended[i + 1] = path[i]!;
    return extended;
  }
}

/**
 * The flows to one inner IPv4 address in one direction, and which of them went farthest. A flow
 * of one packet that was dropped has only the points it reached; packets to the same place show
 * where it should have gone on.
 */
export class Destination {
  constructor(
    public farthest: Flow,
    readonly forward: boolean,
  ) {}
}

/**
 * The largest packet that went from one point straight on to the next it was seen at, for every
 * ordered pair of points: what tells lost packets that were too big to cross (losses.ts, tooBig).
 * Kept once for all traffic rather than on every flow's hops: a field on each of 400k hops cost
 * 5 to 25 MB of peak memory on 6 x 1M.
 */
export class HopSizes {
  /** Bytes at `from`, at [from * points + to]; 0 where nothing crossed. */
  private readonly largest: Int32Array;

  constructor(private readonly points: number) {
    this.largest = new Int32Array(points * points);
  }

  /** Counts each hop of a journey's sightings, in travel order. */
  note(store: SightingStore, sightings: readonly number[]): void {
    for (let i = 1; i < sightings.length; i++) {
      const before = sightings[i - 1]!;
      const at = store.point[before]! * this.points + store.point[sightings[i]!]!;
      const length = store.length[before]!;
      if (length > this.largest[at]!) this.largest[at] = length;
    }
  }

  /** The largest packet that went from `from` straight on to `to` (bytes at `from`); null if none did. */
  largestCrossed(from: number, to: number): number | null {
    const largest = this.largest[from * this.points + to]!;
    return largest === 0 ? null : largest;
  }
}

/** When each point's capture started and ended, in corrected ns (end: Infinity while reading). */
export interface CaptureSpan {
  startNs: number;
  endNs: number;
}

export interface FlowTableOptions {
  /** Position of each point in the path order. */
  readonly position: readonly number[];
  /** Each point's clock resolution (1000 ns for a µs capture); default 1 ns for all. */
  readonly tickNs?: readonly number[];
  readonly spans: readonly CaptureSpan[];
  readonly windowNs: number;
  readonly holdNs: number;
  /** Receives every packet, or with `onlyLost` only the lost ones (cheaper: no objects). */
  readonly onPacket: (packet: TracedPacket) => void;
  readonly onlyLost?: boolean;
  /** Receives every journey straight from the store, instead of packets. */
  readonly onDecided?: (decided: DecidedJourney) => void;
  /** Where decided journeys go back to, for the matcher to reuse. */
  readonly journeys?: JourneyPool;
  /**
   * Count per flow only what loss decisions need (each hop's packets and delays' range), not
   * the changes, medians and direction totals a trace report shows: diff counts its own.
   */
  readonly forLossesOnly?: boolean;
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
  /** In the order they were first seen. */
  readonly flows: Flow[] = [];
  private readonly flowOf = new FlowIndex<Flow>();
  /**
   * Flows by the key their packets had at the last point they reached, where NAT on the way
   * changed it (a Service's DNAT, a masquerade): their replies start out keyed as that turned
   * round, not as the flow's own key turned round.
   */
  private readonly translatedOf = new FlowIndex<Flow>();
  /** All traffic along the point order and against it, as two flows: the path at a glance. */
  readonly directions = [
    new Flow(0, 'All packets along the path', true, DIRECTION_RESERVOIR),
    new Flow(0, 'All packets against the path', false, DIRECTION_RESERVOIR),
  ] as const;
  /** Journeys waiting to be decided, in the order they completed. */
  private readonly pending = new Fifo<Journey>();
  /** Journeys decided since the recent fragments and segments were last cleared out of date. */
  private decidedSinceCleared = 0;
  /** Per inner IPv4 destination, going along the path (ip) and against it (-1 - ip). */
  private readonly destinations = new Map<number, Destination>();
  /** The largest packet over each hop, all traffic together (not counted with forLossesOnly). */
  readonly hopSizes: HopSizes;
  /** Scratch: differingColumns of each hop of the journey being decided. */
  private differing = new Int32Array(16);
  /** Recent fragments by point, protocol and IP ID, with when they were seen. */
  private readonly fragments = new Map<string, number>();
  /** Recent TCP segments of journeys that did not cross their whole path. */
  private readonly segments: SegmentLog;
  private readonly position: readonly number[];
  private readonly tickNs: readonly number[];
  private readonly spans: readonly CaptureSpan[];
  private readonly windowNs: number;
  private readonly holdNs: number;
  private readonly onPacket: (packet: TracedPacket) => void;
  private readonly onlyLost: boolean;
  private readonly onDecided: ((decided: DecidedJourney) => void) | undefined;
  private readonly journeys: JourneyPool | undefined;
  private readonly forLossesOnly: boolean;
  /** What onDecided receives, filled afresh for every journey (valid only during the call). */
  private readonly decided: { -readonly [K in keyof DecidedJourney]: DecidedJourney[K] };

  constructor(
    private readonly store: SightingStore,
    options: FlowTableOptions,
  ) {
    this.position = options.position;
    this.tickNs = options.tickNs ?? options.position.map(() => 1);
    this.spans = options.spans;
    this.windowNs = options.windowNs;
    this.holdNs = options.holdNs;
    this.onPacket = options.onPacket;
    this.onlyLost = options.onlyLost ?? false;
    this.onDecided = options.onDecided;
    this.journeys = options.journeys;
    this.forLossesOnly = options.forLossesOnly ?? false;
    this.segments = new SegmentLog(store, options.windowNs);
    this.hopSizes = new HopSizes(options.position.length);
    this.decided = { journey: null as unknown as Journey, flow: this.directions[0], store, lost: null, fragmented: null, resegmented: null, expired: null, missed: NOTHING_MISSED, differing: this.differing };
  }

  add(journey: Journey): void {
    const store = this.store;
    orderSightings(journey, this.position, store);
    const sightings = journey.sightings;
    const seenOnce = sightings.length === 1;
    // Seen at its ends at the same instant, as far as the clocks tell (a µs capture of eth0 and
    // of the VXLAN device right behind it): time shows no direction, the packet's flows may.
    const atOnce = !seenOnce && sameInstant(store, sightings[0]!, sightings[sightings.length - 1]!, this.tickNs);
    // Until a flow shows it (its reply may still come: asked again when it is decided), the
    // order in time stands, for what it is worth.
    if (atOnce) journey.undetermined = this.followShownDirection(journey) === undefined;
    const first = sightings[0]!;
    const flow = this.flowOf.get(store, first) ?? this.newFlow(first);
    // A packet seen at one point shows no direction: it goes the way its flow goes.
    if (seenOnce) journey.forward = flow.forward;
    else if (!flow.directionKnown && !journey.undetermined) flow.learnDirection(journey.forward);
    const forward = journey.forward;
    flow.extendPath(sightings, store, this.position);
    if (sightings.length > flow.sightingsCheckedForNat) this.noteTranslation(flow, sightings);
    if (!seenOnce && !this.forLossesOnly) this.directions[forward ? 0 : 1].extendPath(sightings, store, this.position);
    if (store.kind[first] === Kind.Ipv4) {
      const destination = this.destinationOf(flow, forward, store.ipDst[first]!);
      if (destination.farthest.path.length < flow.path.length) destination.farthest = flow;
    }
    for (const slot of sightings) {
      if (store.fragment[slot] === 1) this.fragments.set(fragmentKey(store, store.point[slot]!, slot), store.correctedNs[slot]!);
    }
    if (sightings.length < flow.path.length) this.segments.note(journey);
    // An ICMP error: the flow of the packet it quotes, which completed before it (it started earlier).
    const quoted = journey.quotedJourney;
    if (quoted !== null && quoted.id === journey.quotes && quoted.flow !== null && !flow.quotedFlows.includes(quoted.flow)) {
      flow.quotedFlows = grown(flow.quotedFlows, quoted.flow);
    }
    journey.flow = flow;
    this.pending.push(journey);
  }

  /** Turns a journey whose ends were seen at once the way directionShown says; returns that. */
  private followShownDirection(journey: Journey): boolean | undefined {
    const forward = this.directionShown(journey);
    if (forward !== undefined && forward !== journey.forward) turnAround(journey);
    return forward;
  }

  /**
   * Which way a journey whose ends were seen at once went: true along the path order, false
   * against it, undefined if no flow has shown it yet. The evidence is the direction its flow,
   * or the flow the other way, has shown. Read along the path, the packet's first sighting is
   * the one nearer the path's start, read against it the other end: with NAT between the two,
   * two different keys.
   */
  private directionShown(journey: Journey): boolean | undefined {
    const store = this.store;
    const sightings = journey.sightings;
    const first = sightings[0]!;
    const last = sightings[sightings.length - 1]!;
    const [start, end] = journey.forward ? [first, last] : [last, first];
    const shows = (slot: number, forward: boolean): boolean => {
      const flow = this.flowOf.get(store, slot);
      if (flow?.directionKnown) return flow.forward === forward;
      const reverse = flow?.reverse ?? this.reverseOf(slot);
      return reverse !== undefined && reverse !== null && reverse.directionKnown && reverse.forward !== forward;
    };
    const along = shows(start, true);
    const against = shows(end, false);
    return along === against ? undefined : along;
  }

  /**
   * The flow of a packet first seen at `first`, its direction still a guess: the replies of a
   * flow go against it, anything else along the path until a packet shows otherwise.
   */
  private newFlow(first: number): Flow {
    const store = this.store;
    const reverse = this.reverseOf(first);
    const forward = reverse === undefined ? true : !reverse.forward;
    const key = flowKeyAt(store, first);
    const nameOrKey = store.kind[first] === Kind.Ipv4 ? key : flat(flowNameAt(store, first));
    const flow = new Flow(this.flows.length + 1, nameOrKey, forward, this.forLossesOnly ? 0 : FLOW_RESERVOIR);
    if (reverse !== undefined) flow.pairWith(reverse);
    flow.asksForReply = asksForReply(store, first);
    this.flows.push(flow);
    this.flowOf.addKey(key, flow);
    return flow;
  }

  /**
   * The flow whose replies a packet first seen at `slot` would be: the one keyed the other way
   * round, or else one whose packets NAT rewrote into the other way round.
   */
  private reverseOf(slot: number): Flow | undefined {
    return this.flowOf.getReverse(this.store, slot) ?? this.translatedOf.getReverse(this.store, slot);
  }

  /**
   * Looks at a packet of `flow` that got farther than any of its packets before: if NAT on the
   * way rewrote its addresses or ports, its replies will start out keyed from the rewritten ones
   * (newFlow finds the flow from there), and a flow the other way seen before now is linked.
   * A flow is looked at once or twice this way, not for every packet.
   */
  private noteTranslation(flow: Flow, sightings: readonly number[]): void {
    const store = this.store;
    flow.sightingsCheckedForNat = sightings.length;
    const first = sightings[0]!;
    const last = sightings[sightings.length - 1]!;
    if (store.kind[first] !== Kind.Ipv4 || sameFlowKey(store, first, last)) return;
    if (this.translatedOf.get(store, last) === undefined) this.translatedOf.add(store, last, flow);
    if (flow.reverse !== null) return;
    const reverse = this.flowOf.getReverse(store, last);
    if (reverse !== undefined && reverse !== flow && reverse.reverse === null) flow.pairWith(reverse);
  }

  /**
   * Where a journey of `flow` goes: its inner IPv4 destination, along the path or against it as
   * the journey went (a journey seen at one point goes the way its flow goes). A flow's journeys
   * nearly always go one way, so the flow keeps its last and the Map is asked when the way changes.
   */
  private destinationOf(flow: Flow, forward: boolean, ip: number): Destination {
    const known = flow.destination;
    if (known !== null && known.forward === forward) return known;
    const key = forward ? ip : -1 - ip;
    let destination = this.destinations.get(key);
    if (destination === undefined) {
      destination = new Destination(flow, forward);
      this.destinations.set(key, destination);
    }
    flow.destination = destination;
    return destination;
  }

  /** Decides every journey that has waited long enough by capture time `nowNs`. */
  decideBefore(nowNs: number): void {
    const pending = this.pending;
    const limit = nowNs - this.holdNs;
    for (let journey = pending.peek(); journey !== undefined && journey.lastNs < limit; journey = pending.peek()) {
      pending.shift();
      this.decidedSinceCleared += 1;
      this.decide(journey, journey.flow!);
      // The journey is done with: its slots go back to the store, and it to the matcher.
      for (const slot of journey.sightings) this.store.release(slot);
      this.journeys?.release(journey);
    }
    // Now and then, once more have been decided than wait: what is older than any journey
    // still to decide can look back to goes.
    if (this.decidedSinceCleared > 4096 && this.decidedSinceCleared > pending.length) {
      this.decidedSinceCleared = 0;
      for (const [key, seenNs] of this.fragments) if (seenNs < limit - this.windowNs) this.fragments.delete(key);
      this.segments.forgetBefore(limit - this.windowNs);
    }
  }

  finish(): void {
    this.decideBefore(Infinity);
    // A request near the end of the captures may have been answered after they stopped. An
    // ICMP error about it is an answer of its own: that flow is judged whenever it asked.
    for (const flow of this.flows) {
      if (flow.asksForReply && flow.reverse === null && flow.icmpErrors === 0) {
        flow.askedAtCaptureEnd = !flow.path.some((point) => this.spans[point]!.endNs >= flow.firstNs + this.windowNs);
      }
    }
  }

  /** A packet's share of a flow's counts: packets, times, VNIs, and each hop it made. */
  private count(flow: Flow, journey: Journey, differing: Int32Array): void {
    const store = this.store;
    const sightings = journey.sightings;
    flow.packets += 1;
    if (journey.firstNs < flow.firstNs) flow.firstNs = journey.firstNs;
    if (journey.lastNs > flow.lastNs) flow.lastNs = journey.lastNs;
    for (let i = 0; i < sightings.length; i++) {
      const slot = sightings[i]!;
      const vni = store.vni[slot]!;
      if (vni !== NONE && !flow.vnis.includes(vni)) flow.vnis = grown(flow.vnis, vni);
      if (i > 0) {
        const previous = sightings[i - 1]!;
        flow.hop(store.point[previous]!, store.point[slot]!).add(store, previous, slot, differing[i]!);
      }
    }
  }

  /**
   * How long after `from` a packet should show up at `to`: the slowest this hop has been for
   * the flow (for a guide that went the other way, a reply's requests: the same link crossed
   * the other way), or the window before it was seen. A capture that ended before then may
   * simply have stopped too early to see the packet, which is no loss.
   */
  private expectedDelay(flow: Flow, from: number, to: number): number {
    const max = flow.hopOverLink(from, to)?.latency.max;
    return max === undefined || max === -Infinity ? this.windowNs : Math.min(this.windowNs, Math.max(0, max));
  }

  /**
   * The flow whose path says where a packet of `flow` last seen at `lastPoint` should have gone
   * next: its own, or a longer one to the same place, or its reverse flow's, backwards, while
   * its own packets have not got farther (replies go back the way the requests came; a reply
   * dropped at its first hop, before any other reply passed, is found lost only so).
   */
  private guideOf(flow: Flow, lastPoint: number): Flow {
    const length = flow.path.length;
    const farthest = flow.destination?.farthest;
    if (farthest !== undefined && farthest.path.length > length && farthest.path.includes(lastPoint)) return farthest;
    const reverse = flow.reverse;
    if (reverse !== null && reverse.forward !== flow.forward && reverse.path.length > length && reverse.path.includes(lastPoint)) return reverse;
    return flow;
  }

  /**
   * A TCP segment first seen past the start of its flow's path whose bytes the point before saw
   * in other packets: a piece of a segment cut there, or segments joined there. That hop, or null.
   */
  private resegmentedBefore(journey: Journey, flow: Flow): TracedPacket['resegmented'] {
    const store = this.store;
    const first = journey.sightings[0]!;
    const firstPoint = store.point[first]!;
    const at = flow.path.indexOf(firstPoint);
    if (at <= 0) return null;
    const before = flow.path[at - 1]!;
    return this.segments.carriedElsewhere(first, firstPoint, before) ? { after: before, before: firstPoint } : null;
  }

  /**
   * Whether the IPv4 packet of `journey` last seen in `last`, at `from`, had its TTL run out
   * before `to`: a router said so ("time exceeded" quoting it), or it has 1 left (or 0) and the
   * guide's packets lost TTL over that hop (for a guide that went the other way, over the same
   * link the other way). A bridge passes it as it is.
   */
  private expiresBefore(journey: Journey, guide: Flow, last: number, from: number, to: number): boolean {
    if (journey.icmpError !== null && isTtlExceeded(journey.icmpError)) return true;
    const store = this.store;
    if (store.kind[last] !== Kind.Ipv4 || store.ttl[last]! > 1) return false;
    return guide.hopOverLink(from, to)?.routes === true;
  }

  private decide(journey: Journey, flow: Flow): void {
    const store = this.store;
    const sightings = journey.sightings;
    // A journey seen at once at both ends, added before any packet showed its direction: its
    // reply, which came during the hold, may show it now (if the flow is the same either way).
    if (journey.undetermined && this.flowOf.get(store, sightings[sightings.length - 1]!) === flow) {
      const forward = this.followShownDirection(journey);
      if (forward !== undefined && !flow.directionKnown) flow.learnDirection(forward);
    }
    // What differs over each hop, found once for the flow and its direction.
    if (this.differing.length < sightings.length) this.differing = new Int32Array(sightings.length * 2);
    const differing = this.differing;
    if (!this.forLossesOnly) for (let i = 1; i < sightings.length; i++) differing[i] = differingColumns(store, sightings[i - 1]!, sightings[i]!);
    this.count(flow, journey, differing);
    // Packets seen at one point only say nothing about the path.
    const direction = sightings.length > 1 && !this.forLossesOnly ? this.directions[journey.forward ? 0 : 1] : undefined;
    if (direction !== undefined) {
      this.count(direction, journey, differing);
      this.hopSizes.note(store, sightings);
    }

    // Lost: the flow (or another to the same place) goes on past this packet's last point, and
    // the next point was capturing at the time, or an ICMP error about the packet says so.
    const last = sightings[sightings.length - 1]!;
    const lastPoint = store.point[last]!;
    const lastNs = store.correctedNs[last]!;
    const guide = this.guideOf(flow, lastPoint);
    const path = guide === flow.reverse ? guide.pathBack() : guide.path;
    const at = path.indexOf(lastPoint);
    let lost: TracedPacket['lost'] = null;
    let fragmented: TracedPacket['fragmented'] = null;
    let expired: TracedPacket['expired'] = null;
    // Cut or joined on the way (GSO/GRO): the first hop over which its bytes went in other packets.
    let resegmented = this.resegmentedBefore(journey, flow);
    // Seen at its ends at once, a packet no flow has shown the way of keeps the order in time,
    // which may be against its flow's (guessed) path: its last point is then the path's first,
    // and the next point one it was seen at. It went no less far than that.
    if (at >= 0 && at < path.length - 1 && !journey.seenAt(path[at + 1]!, store)) {
      const next = path[at + 1]!;
      const span = this.spans[next]!;
      const fragmentSeen = this.fragments.get(fragmentKey(store, next, last));
      if (store.fragment[last] !== 1 && fragmentSeen !== undefined && Math.abs(fragmentSeen - lastNs) <= this.windowNs) {
        fragmented = { after: lastPoint, before: next };
      } else if (this.segments.carriedElsewhere(last, lastPoint, next)) {
        resegmented ??= { after: lastPoint, before: next };
      } else if (this.expiresBefore(journey, guide, last, lastPoint, next)) {
        expired = { after: lastPoint, before: next };
        flow.expired += 1;
        if (direction !== undefined) direction.expired += 1;
      } else if (journey.icmpError !== null || (span.startNs <= lastNs && span.endNs >= lastNs + this.expectedDelay(guide, lastPoint, next))) {
        // An ICMP error about it says it went no farther, whatever the next capture's span: where
        // every later packet is refused, that capture's last frame comes before them all.
        lost = { after: lastPoint, before: next };
        flow.lost += 1;
        if (direction !== undefined) direction.lost += 1;
      }
    }
    let missed = NOTHING_MISSED;
    const from = flow.path.indexOf(store.point[sightings[0]!]!);
    const to = flow.path.indexOf(lastPoint);
    if (to - from + 1 > sightings.length) {
      missed = [];
      // A TCP segment cut at a point and joined again after it (GSO, then GRO) went through the
      // gap in other packets: resegmented there, not missed.
      let seenBefore = sightings[0]!;
      for (let i = from + 1; i < to; i++) {
        const point = flow.path[i]!;
        const slot = journey.slotAt(point, store);
        if (slot !== NONE) {
          seenBefore = slot;
        } else if (this.segments.carriedElsewhere(seenBefore, store.point[seenBefore]!, point)) {
          resegmented ??= { after: store.point[seenBefore]!, before: point };
        } else {
          (missed as number[]).push(point);
        }
      }
    }
    if (resegmented !== null) flow.resegmented += 1;
    if (journey.icmpError !== null) {
      flow.icmpErrors += 1;
      flow.icmpError = journey.icmpError;
    }
    if (this.onDecided === undefined && this.onlyLost && lost === null) return;
    if (this.onDecided !== undefined) {
      const decided = this.decided;
      decided.journey = journey;
      decided.flow = flow;
      decided.lost = lost;
      decided.fragmented = fragmented;
      decided.resegmented = resegmented;
      decided.expired = expired;
      decided.missed = missed;
      decided.differing = differing;
      this.onDecided(decided);
      return;
    }
    const traced = sightings.map((slot, i): TracedSighting => {
      const previous = i === 0 ? NONE : sightings[i - 1]!;
      return {
        sighting: store.snapshot(slot),
        deltaNs: previous === NONE ? null : store.correctedNs[slot]! - store.correctedNs[previous]!,
        changes: previous === NONE ? [] : changesBetween(store, previous, slot),
      };
    });
    this.onPacket({ id: journey.id, flow, sightings: traced, lost, fragmented, resegmented, expired, icmpError: journey.icmpError, quotes: journey.quotedPacket, missed });
  }
}

const TCP_SYN = 0x02;
const TCP_ACK = 0x10;
const ICMP_ECHO_REQUEST = 8;
const DNS_PORT = 53;

/**
 * Whether the packet in `slot` asks for an answer, so that a flow starting with it and no flow
 * the other way is unanswered: a TCP SYN (not a SYN-ACK), an ICMP echo request, a UDP datagram
 * to the DNS port. A flow first seen in the middle of a connection is not judged.
 */
function asksForReply(store: SightingStore, slot: number): boolean {
  if (store.kind[slot] !== Kind.Ipv4) return false;
  const flags = store.typeOrFlags[slot]!;
  switch (store.proto[slot]) {
    case 6:
      return flags !== NONE && (flags & TCP_SYN) !== 0 && (flags & TCP_ACK) === 0;
    case 1:
      return flags === ICMP_ECHO_REQUEST;
    case 17:
      return store.dstPort[slot] === DNS_PORT;
    default:
      return false;
  }
}

/** A journey put the wrong way round: its sightings in the order it passed them. */
function turnAround(journey: Journey): void {
  journey.sightings.reverse();
  journey.forward = !journey.forward;
}

/**
 * A copy of `list` with `item` added, exactly as long as needed. A flow's lists hold a handful of
 * items and grow rarely, but push() gives an array room for 17: 150 bytes each, over 100k flows.
 */
function grown<T>(list: readonly T[], item: T): T[] {
  return list.concat([item]);
}

/**
 * The same text as one flat string. A string built from pieces (`${proto} ${ip}:${port}...`)
 * is a tree of its pieces until something reads it whole: a dozen small objects, kept as long
 * as the flow is, for each of a hundred thousand flows. Converting it to a number reads it
 * whole, and V8 flattens it in place (the trick of the flatstr package).
 */
function flat(text: string): string {
  Number(text);
  return text;
}

/** Fragments of one original share its protocol and IP ID (and NAT changes neither). */
function fragmentKey(store: SightingStore, point: number, slot: number): string {
  return `${point} ${store.proto[slot]} ${store.ipId[slot]}`;
}
