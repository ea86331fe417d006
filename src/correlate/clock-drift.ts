import { type ClockOffset, PLAUSIBLE_SPREAD_NS } from './clock.js';
import type { Journey } from './journeys.js';
import type { CapturePoint } from './points.js';
import { Kind, NONE, type SightingStore } from './sighting.js';

/**
 * Following each node's clock offset while it drifts, over the whole of the captures.
 *
 * The survey (clock.ts) estimates every offset once, from the first frames. Clocks drift: a
 * crystal left to itself by tens of ppm, a clock NTP is slewing by up to 500 ppm. 50 ppm over
 * 2 s is 100 µs, several times a delay across the underlay: on the bench's generated path with
 * node2 running 50 ppm fast, one offset for the whole run turned tens of thousands of packets
 * round and called them lost.
 *
 * So each offset estimated two-way is followed while streaming, on the same pair of points and
 * by the same reasoning as NTP's. A packet that went from a to b has d = t(b) − t(a) above the
 * difference between the clocks, one that went back below it. The direction comes from the
 * packet's source address at a (in the tunnel the outer one: the VTEP that sent it), learned
 * from a packet that lay clearly on one side of the estimate. Two things are watched:
 *
 *   - the offset: over each interval the fastest packet each way bounds the difference; while
 *     the estimate keeps clear of both ends it stands, otherwise it moves to the middle;
 *   - the drift: over the recent intervals, the fastest packets each way should lie level
 *     against the estimate, as delays do not drift; a slope both ways is drift it lacks.
 *
 * Packets far apart in time tell the drift, and packets near each other the offset, so that
 * sparse traffic (a ping a second) is followed as well as dense, only more slowly.
 */

/** How a followed offset moved over the captures (ClockOffset.drift; absent where none was followed). */
export interface ClockDrift {
  /** Times the traffic proved the offset or its drift wrong and they were moved. */
  corrections: number;
  /** The offset at the last packet it was followed on, in ns (ClockOffset.offsetNs is the first). */
  endOffsetNs: number;
  /** Over how long it was followed, in ns. */
  spanNs: number;
  /**
   * The drift in ns per second of capture (ppm × 1000): the change from the first offset to the
   * last over the span, or over a span under AVERAGE_OVER_NS the drift at the end.
   */
  nsPerSecond: number;
}

/** Traffic is weighed in intervals of this much capture time. */
const INTERVAL_NS = 20e6;
/**
 * The drift is looked at over the fastest packets of the last this many intervals that had
 * packets (see slopeOfFastest): 0.6 s of dense traffic, half a minute of a ping a second.
 */
const RATE_WINDOW_INTERVALS = 32;
/** A drift beyond this is noise, not a clock (NTP slews at 500 ppm at most). */
const MAX_RATE = 1000e-6;
/** Followed this long at least, a clock's drift is told as its average (see ClockFollower.result). */
const AVERAGE_OVER_NS = 2e9;
/** A move is made over this much time, not at once (see FollowedPair). */
const SLEW_NS = 10e6;
/** Which way packets from a source address go between the two points: a → b, b → a, or not known yet. */
const A_TO_B = 1;
const B_TO_A = -1;
const UNKNOWN = 0;

/** The fastest packet each way in one interval: when it was seen (corrected time) and its d; NaN times for none. */
interface Extremes {
  aToBNs: number;
  aToB: number;
  bToANs: number;
  bToA: number;
}

const noExtremes = (): Extremes => ({ aToBNs: NaN, aToB: NaN, bToANs: NaN, bToA: NaN });

/** The difference offset(b's node) − offset(a's node) between two points, followed over time. */
class FollowedPair {
  /**
   * The estimate, in corrected trace time (the reference node's clock): from anchorNs, where it
   * is valueNs, it changes by slewRate ns per ns until slewEndNs, and by `rate` (the drift)
   * after. A move slews, as NTP does: a step would put a packet in flight inside one node (br0 →
   * vxlan11, a few µs) the wrong way round when the step fell between its two sightings.
   */
  private anchorNs = 0;
  private valueNs: number;
  private slewRate: number;
  private slewEndNs = 0;
  private rate: number;
  /** The estimate at slewEndNs, where the drift takes over. */
  private endValueNs: number;
  /** Half the width of the survey's bound: packets farther than this from the estimate tell their direction. */
  private readonly marginNs: number;
  /**
   * How near an edge of the bound the estimate may come before it moves: half the survey's
   * half gap, which is about the smallest delay either way (at least a clock tick).
   */
  private readonly edgeNs: number;
  private readonly directions = new Map<number, number>();
  /** The last source looked up and its direction: most packets come from one of two VTEPs. */
  private lastSource = NaN;
  private lastDirection = UNKNOWN;
  /** The current interval: its end, and its fastest packet each way. */
  private intervalEndNs = NaN;
  private current = noExtremes();
  /** The residuals of its fastest packets (NaN: none yet). */
  private lowestAbove = NaN;
  private highestBelow = NaN;
  /** The last RATE_WINDOW_INTERVALS intervals that had packets, oldest first. */
  private readonly recent: Extremes[] = [];
  corrections = 0;
  /** The first and the last packet followed, in corrected time. */
  firstNs = NaN;
  lastNs = NaN;

  constructor(
    readonly a: number,
    readonly b: number,
    /** The survey's estimate: the difference at the base time, and its drift over the sample. */
    differenceNs: number,
    rate: number,
    uncertaintyNs: number,
    /** The coarser clock resolution of the two points: d is only known to within it. */
    private readonly tickNs: number,
  ) {
    this.valueNs = differenceNs;
    this.endValueNs = differenceNs;
    this.rate = rate;
    this.slewRate = rate;
    this.marginNs = Math.max(uncertaintyNs, tickNs);
    this.edgeNs = Math.max(uncertaintyNs / 2, tickNs);
  }

  /** The estimate at corrected time `timeNs` (as lineAt, without making an array: it runs for every packet). */
  at(timeNs: number): number {
    if (timeNs >= this.anchorNs && timeNs < this.slewEndNs) return this.valueNs + this.slewRate * (timeNs - this.anchorNs);
    return this.endValueNs + this.rate * (timeNs - this.slewEndNs);
  }

  /**
   * The piece of the estimate `timeNs` falls in, as [intercept, slope], and until when it holds.
   * Before the last move it is the line after it, taken back: what the traffic then looks like
   * against the estimate now.
   */
  lineAt(timeNs: number): [intercept: number, slope: number, untilNs: number] {
    if (timeNs >= this.anchorNs && timeNs < this.slewEndNs) return [this.valueNs - this.slewRate * this.anchorNs, this.slewRate, this.slewEndNs];
    return [this.endValueNs - this.rate * this.slewEndNs, this.rate, Infinity];
  }

  /** The packet seen at a in `atA` and at b in `atB`; true when the estimate moved. */
  observe(store: SightingStore, atA: number, atB: number): boolean {
    // On the reference clock: a line in one node's own time would be off by the drift over the offset.
    const timeNs = store.correctedNs[atA]!;
    if (Number.isNaN(this.firstNs)) {
      this.firstNs = timeNs;
      this.intervalEndNs = timeNs + INTERVAL_NS;
    }
    this.lastNs = timeNs;
    const moved = timeNs >= this.intervalEndNs && this.closeInterval(timeNs);
    const d = store.timeNs[atB]! - store.timeNs[atA]!;
    const residual = d - this.at(timeNs);
    if (Math.abs(residual) > PLAUSIBLE_SPREAD_NS) return moved;
    const direction = this.directionOf(store, atA, residual);
    const current = this.current;
    // The fastest: nearest the estimate, above it one way and below it the other. The estimate
    // does not move within an interval, so that the residuals compare.
    if (direction === A_TO_B && !(residual >= this.lowestAbove)) {
      this.lowestAbove = residual;
      current.aToB = d;
      current.aToBNs = timeNs;
    } else if (direction === B_TO_A && !(residual <= this.highestBelow)) {
      this.highestBelow = residual;
      current.bToA = d;
      current.bToANs = timeNs;
    }
    return moved;
  }

  /**
   * Which way the packet in `atA` went, by its source address; UNKNOWN until a packet from it
   * lay clearly on one side of the estimate. Once learnt it stays: a packet on the other side
   * later is what a drifting estimate looks like, which is what the bound is there to show.
   */
  private directionOf(store: SightingStore, atA: number, residual: number): number {
    if (store.kind[atA] === Kind.Other) return UNKNOWN;
    const outer = store.outerIpSrc[atA]!;
    const source = outer !== NONE ? outer : store.ipSrc[atA]!;
    if (source === this.lastSource) return this.lastDirection;
    const known = this.directions.get(source);
    if (known !== undefined) {
      this.lastSource = source;
      this.lastDirection = known;
      return known;
    }
    if (Math.abs(residual) <= this.marginNs) return UNKNOWN;
    const shown = residual > 0 ? A_TO_B : B_TO_A;
    this.directions.set(source, shown);
    return shown;
  }

  /**
   * Ends the interval at `nowNs`: first the drift, then the offset.
   *
   * The drift: over the recent intervals, the fastest packets each way should lie level
   * about the estimate (delays do not drift); a slope there is drift the estimate does not
   * have yet (see slopeOfFastest), and is added to it.
   *
   * The offset: the interval's fastest packets bound the difference. The estimate stands while
   * it keeps edgeNs from both ends of the bound: no packet was put the wrong way round, nor
   * would one a little faster than any so far. (Moving it to the middle of every interval would
   * chase the noise of single packets.) Otherwise it slews to the middle over SLEW_NS.
   */
  private closeInterval(nowNs: number): boolean {
    const closed = this.current;
    this.current = noExtremes();
    this.lowestAbove = NaN;
    this.highestBelow = NaN;
    this.intervalEndNs = nowNs + INTERVAL_NS;
    const hasAToB = !Number.isNaN(closed.aToBNs);
    const hasBToA = !Number.isNaN(closed.bToANs);
    if (!hasAToB && !hasBToA) return false;
    const recent = this.recent;
    recent.push(closed);
    if (recent.length > RATE_WINDOW_INTERVALS) recent.shift();
    let moved = false;
    const slope = this.slopeOfFastest(nowNs);
    if (slope !== 0) {
      this.corrections += 1;
      this.restart(nowNs, this.rate + slope, 0);
      moved = true;
    }
    if (!hasAToB || !hasBToA) return moved;
    const above = closed.aToB - this.at(closed.aToBNs);
    const below = closed.bToA - this.at(closed.bToANs);
    if (below >= above || (above >= this.edgeNs && below <= -this.edgeNs)) return moved;
    const off = (above + below) / 2;
    // Within a tick of the middle already: the times cannot tell better.
    if (Math.abs(off) <= this.tickNs) return moved;
    this.corrections += 1;
    this.restart(nowNs, this.rate, off);
    return true;
  }

  /**
   * The slope of the fastest packets' residuals over the recent intervals: per direction from
   * the fastest of the older half to the fastest of the newer (as the survey's
   * driftOverSample), averaged where both agree. 0 unless the window is half full at least and
   * the fastest packets moved by edgeNs each way: less is noise.
   */
  private slopeOfFastest(nowNs: number): number {
    const recent = this.recent;
    const spanNs = nowNs - seenAt(recent[0]!);
    if (recent.length < RATE_WINDOW_INTERVALS / 2) return 0;
    const half = recent.length >> 1;
    const slopes: number[] = [];
    for (const way of [A_TO_B, B_TO_A]) {
      const older = this.fastest(recent, 0, half, way);
      const newer = this.fastest(recent, half, recent.length, way);
      if (older === null || newer === null || newer.atNs - older.atNs < spanNs / 4) continue;
      // The fastest packets moved by less than edgeNs: as the fastest of a few packets can.
      const moved = newer.residual - older.residual;
      if (Math.abs(moved) < this.edgeNs) return 0;
      slopes.push(moved / (newer.atNs - older.atNs));
    }
    // Both ways must agree (a queue filling up one way moves that way's delays alone).
    if (slopes.length === 0 || (slopes.length === 2 && Math.sign(slopes[0]!) !== Math.sign(slopes[1]!))) return 0;
    const slope = slopes.reduce((x, y) => x + y, 0) / slopes.length;
    return Math.abs(this.rate + slope) <= MAX_RATE ? slope : 0;
  }

  /** The fastest packet one way in recent[from, to), as its residual from the estimate now and when it was seen. */
  private fastest(recent: readonly Extremes[], from: number, to: number, way: number): { residual: number; atNs: number } | null {
    let best: { residual: number; atNs: number } | null = null;
    for (let i = from; i < to; i++) {
      const r = recent[i]!;
      const atNs = way === A_TO_B ? r.aToBNs : r.bToANs;
      if (Number.isNaN(atNs)) continue;
      const residual = (way === A_TO_B ? r.aToB : r.bToA) - this.at(atNs);
      if (best === null || (way === A_TO_B ? residual < best.residual : residual > best.residual)) best = { residual, atNs };
    }
    return best;
  }

  /** Starts the estimate afresh at `nowNs` where it is now, with drift `rate`, slewing by `off` over SLEW_NS. */
  private restart(nowNs: number, rate: number, off: number): void {
    this.valueNs = this.at(nowNs);
    this.anchorNs = nowNs;
    this.rate = rate;
    this.slewRate = rate + off / SLEW_NS;
    this.slewEndNs = off === 0 ? nowNs : nowNs + SLEW_NS;
    this.endValueNs = this.valueNs + this.slewRate * (this.slewEndNs - nowNs);
  }
}

/** When an interval's fastest packets were seen: the earlier of the two. */
function seenAt(extremes: Extremes): number {
  return Number.isNaN(extremes.aToBNs) ? extremes.bToANs : Number.isNaN(extremes.bToANs) ? extremes.aToBNs : Math.min(extremes.aToBNs, extremes.bToANs);
}

/** A node whose offset is followed: through `pair`, from its parent node's offset. */
interface FollowedNode {
  readonly node: string;
  /** The node the pair leads from, whose offset this one's is added to (the reference: none). */
  readonly parent: string;
  readonly pair: FollowedPair;
  /** offset(node) = offset(parent) + sign × the pair's difference (b's node minus a's). */
  readonly sign: 1 | -1;
}

/**
 * Every point's clock offset as it drifts (see above): what the trace subtracts from a
 * sighting's time, and each followed node's drift at the end.
 */
export class ClockFollower {
  /**
   * Per point: the offset is intercept + slope × the sighting's own time, until `until` (its
   * own time too; Infinity while no move is slewing). A node's offset is a line in reference
   * time T, o = i + s × T, and its sightings carry t = T + o, so in their own time
   * o = (i + s × t) / (1 + s).
   */
  private readonly intercept: Float64Array;
  private readonly slope: Float64Array;
  private readonly until: Float64Array;
  /** Per point, the followed pairs it is an end of (nearly always none or one). */
  private readonly pairsAt: FollowedPair[][];
  /** In the order their offsets build on each other (a parent before its children). */
  private readonly followed: FollowedNode[] = [];

  constructor(
    private readonly points: readonly CapturePoint[],
    private readonly clock: readonly ClockOffset[],
    tickNs: readonly number[],
  ) {
    this.intercept = new Float64Array(points.length);
    this.slope = new Float64Array(points.length);
    this.until = new Float64Array(points.length);
    this.pairsAt = points.map(() => []);
    const byLabel = new Map(points.map((p) => [p.label, p]));
    const clockOf = new Map(clock.map((c) => [c.node, c]));
    const pending = clock.filter((c) => c.method === 'two-way' && c.via !== null && c.uncertaintyNs !== null);
    const placed = new Set(clock.filter((c) => !pending.includes(c)).map((c) => c.node));
    // Parents first: each node's offset was chained from one placed before it (clock.ts).
    while (pending.length > 0) {
      const next = pending.findIndex((c) => {
        const [a, b] = c.via!.map((label) => byLabel.get(label)!);
        return placed.has(a!.node === c.node ? b!.node : a!.node);
      });
      if (next < 0) break;
      const [c] = pending.splice(next, 1);
      const [a, b] = c!.via!.map((label) => byLabel.get(label)!) as [CapturePoint, CapturePoint];
      const sign = b.node === c!.node ? 1 : -1;
      const parent = sign === 1 ? a.node : b.node;
      const from = clockOf.get(parent)!;
      const tick = Math.max(tickNs[a.index] ?? 1, tickNs[b.index] ?? 1);
      const pair = new FollowedPair(a.index, b.index, sign * (c!.offsetNs - from.offsetNs), sign * (c!.rate - from.rate), c!.uncertaintyNs!, tick);
      this.followed.push({ node: c!.node, parent, pair, sign });
      this.pairsAt[a.index]!.push(pair);
      this.pairsAt[b.index]!.push(pair);
      placed.add(c!.node);
    }
    this.update(0);
  }

  /** The offset to take off a sighting of `point` at trace time `timeNs` (its own clock's). */
  offsetAt(point: number, timeNs: number): number {
    if (timeNs >= this.until[point]!) this.update(timeNs - this.intercept[point]! - this.slope[point]! * timeNs);
    return this.intercept[point]! + this.slope[point]! * timeNs;
  }

  /** A sighting in `slot` has just joined `journey`: a packet seen at both points of a followed pair tells of the clocks. */
  observe(journey: Journey, slot: number, store: SightingStore): void {
    const point = store.point[slot]!;
    const pairs = this.pairsAt[point]!;
    if (pairs.length === 0) return;
    let moved = false;
    for (const pair of pairs) {
      const other = journey.slotAt(point === pair.a ? pair.b : pair.a, store);
      if (other === NONE) continue;
      if (point === pair.a ? pair.observe(store, slot, other) : pair.observe(store, other, slot)) moved = true;
    }
    if (moved) this.update(store.correctedNs[slot]!);
  }

  /** The clocks as estimated at the start, each followed one with how it drifted. */
  result(): ClockOffset[] {
    return this.clock.map((c) => {
      const followed = this.followed.find((f) => f.node === c.node);
      if (followed === undefined) return c;
      const { pair } = followed;
      if (Number.isNaN(pair.firstNs)) return { ...c, drift: { corrections: 0, endOffsetNs: c.offsetNs, spanNs: 0, nsPerSecond: 0 } };
      const endOffsetNs = Math.round(this.nodeOffset(c.node, pair.lastNs));
      const spanNs = pair.lastNs - pair.firstNs;
      // From the offset the survey gave for the first packet followed to the last one's: over a
      // short run, that first offset (which holds for the sample as a whole, so is off by the
      // drift over half of it) weighs too much, and the drift the estimate has at the end is told
      // instead, if it found one.
      const [, slope] = this.nodeLine(c.node, pair.lastNs);
      const firstOffsetNs = c.offsetNs + c.rate * pair.firstNs;
      const average = spanNs <= 0 ? 0 : ((endOffsetNs - firstOffsetNs) / spanNs) * 1e9;
      const nsPerSecond = spanNs < AVERAGE_OVER_NS && slope !== 0 ? slope * 1e9 : average;
      return { ...c, drift: { corrections: pair.corrections, endOffsetNs, spanNs, nsPerSecond } };
    });
  }

  /** A node's offset at corrected time `timeNs`: the followed differences added up from the reference. */
  private nodeOffset(node: string, timeNs: number): number {
    const [intercept, slope] = this.nodeLine(node, timeNs);
    return intercept + slope * timeNs;
  }

  /** The piece of a node's offset that `timeNs` falls in: [intercept, slope, until when it holds]. */
  private nodeLine(node: string, timeNs: number): [intercept: number, slope: number, untilNs: number] {
    const followed = this.followed.find((f) => f.node === node);
    if (followed === undefined) {
      const c = this.clock.find((x) => x.node === node);
      return [c?.offsetNs ?? 0, c?.rate ?? 0, Infinity];
    }
    const [intercept, slope, untilNs] = this.nodeLine(followed.parent, timeNs);
    const [own, ownSlope, ownUntilNs] = followed.pair.lineAt(timeNs);
    return [intercept + followed.sign * own, slope + followed.sign * ownSlope, Math.min(untilNs, ownUntilNs)];
  }

  /** Every point's line afresh from corrected time `timeNs` on, from its node's. */
  private update(timeNs: number): void {
    for (const point of this.points) {
      const [intercept, slope, untilNs] = this.nodeLine(point.node, timeNs);
      this.intercept[point.index] = intercept / (1 + slope);
      this.slope[point.index] = slope / (1 + slope);
      this.until[point.index] = untilNs === Infinity ? Infinity : untilNs + intercept + slope * untilNs;
    }
  }
}
