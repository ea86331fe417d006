import type { ClockDrift } from './clock-drift.js';
import type { CapturePoint } from './points.js';
import { Kind, NONE, type SightingStore } from './sighting.js';

/**
 * Clock offsets between nodes, estimated from the traffic itself.
 *
 * Two nodes' captures come from two clocks. For a packet seen at point p on node A and at q on
 * node B, d = t(q) - t(p) = delay + offset(B) - offset(A), where the delay is positive when the
 * packet went from p to q and negative when it went back. Packets going one way bound the
 * offset difference from above (it is below every d of theirs), packets going the other way
 * from below, exactly as NTP reasons with its minimum delays: the estimate is the middle of the
 * gap between the two sets and the uncertainty is half that gap, which is the smallest one-way
 * delay seen. Direction is not known before the path is, so the packets are grouped by their
 * addresses at p (every packet from x to y crosses the pair the same way), and the groups are
 * split into the two directions as estimatePair describes.
 */
export interface ClockOffset {
  node: string;
  /** This node's clock minus the reference node's clock, in ns, at the trace's base time. */
  offsetNs: number;
  /**
   * How fast the offset changed over the sample, in ns per ns: a clock drifting (see
   * driftOverSample); 0 where none showed, or the offset was given or bounded one way only.
   */
  rate: number;
  /** Half the gap the estimate comes from; null where it was given or could not be bounded. */
  uncertaintyNs: number | null;
  method: 'reference' | 'two-way' | 'one-way' | 'given' | 'none';
  reference: string;
  /** The pair of points whose shared packets gave the estimate. */
  via: [string, string] | null;
  /** Packets of the pair in each direction. */
  samples: [number, number] | null;
  /**
   * How the offset moved while it was followed over the captures (clock-drift.ts); set by the
   * trace for offsets estimated two-way, `offsetNs` being the first.
   */
  drift?: ClockDrift;
}

/** Sample sightings (store slots) of one point, by identity; NONE for identities seen twice. */
export type PointSample = Map<number, number>;

/** Shared packets farther than this from the estimate (here: the median difference) are taken for chance matches. */
export const PLAUSIBLE_SPREAD_NS = 1e9;

interface PairEstimate {
  a: CapturePoint;
  b: CapturePoint;
  /** offset(b's node) - offset(a's node), at time atNs of a's clock, changing by `rate` ns per ns */
  differenceNs: number;
  atNs: number;
  rate: number;
  uncertaintyNs: number;
  twoWay: boolean;
  samples: [number, number];
}

/** Packets going one way between two addresses at point a: the unit the directions split. */
interface Group {
  /** "src>dst" at point a (ARP: sender and target protocol addresses). */
  key: string;
  /** The same addresses the other way round: a group that must have gone the other way. */
  reverse: string;
  ds: number[];
  /** When each packet was seen at a (a's clock). */
  ts: number[];
  min: number;
  max: number;
}

/** Packets seen once in each of two samples, as d = t(b) - t(a) grouped by their addresses. */
function sharedDifferences(a: PointSample, b: PointSample, store: SightingStore): Group[] {
  // Columns rather than an object per packet: with six points this runs for nine pairs over the
  // whole sample, and the objects (and a key string each) were most of the survey's garbage.
  const ds: number[] = [];
  const ts: number[] = [];
  const sources: number[] = [];
  const destinations: number[] = [];
  for (const [identity, at] of a) {
    if (at === NONE) continue;
    const bt = b.get(identity);
    if (bt === undefined || bt === NONE) continue;
    const other = store.kind[at] === Kind.Other;
    ds.push(store.timeNs[bt]! - store.timeNs[at]!);
    ts.push(store.timeNs[at]!);
    sources.push(other ? -1 : store.ipSrc[at]!);
    destinations.push(other ? -1 : store.ipDst[at]!);
  }
  if (ds.length === 0) return [];
  const sorted = Float64Array.from(ds).sort();
  const median = sorted[sorted.length >> 1]!;
  // By source, then destination; the list keeps the order they were first seen in.
  const bySource = new Map<number, Map<number, Group>>();
  const groups: Group[] = [];
  for (let i = 0; i < ds.length; i++) {
    const d = ds[i]!;
    if (Math.abs(d - median) > PLAUSIBLE_SPREAD_NS) continue;
    const src = sources[i]!;
    const dst = destinations[i]!;
    let byDestination = bySource.get(src);
    if (byDestination === undefined) {
      byDestination = new Map();
      bySource.set(src, byDestination);
    }
    let group = byDestination.get(dst);
    if (group === undefined) {
      group = { key: `${src}>${dst}`, reverse: `${dst}>${src}`, ds: [], ts: [], min: Infinity, max: -Infinity };
      byDestination.set(dst, group);
      groups.push(group);
    }
    group.ds.push(d);
    group.ts.push(ts[i]!);
    if (d < group.min) group.min = d;
    if (d > group.max) group.max = d;
  }
  return groups.sort((x, y) => x.min - y.min || x.max - y.max);
}

/**
 * The NTP-style bound from the groups of one point pair. The offset lies in a gap with every
 * group wholly on one side: those below went from b to a, those above from a to b. Capture
 * timestamps are noisy (a packet's time at a bridge can trail its time at the pod's veth by more
 * than the hop takes), so several such gaps may exist; the right one puts the two directions of
 * a conversation (a request and its reply, x>y and y>x) on opposite sides, and among equals the
 * widest gap wins.
 */
function splitDirections(a: CapturePoint, b: CapturePoint, groups: Group[]): PairEstimate | null {
  if (groups.length === 0) return null;
  // The largest max below each split and the smallest min above it, so that the splits that
  // leave no gap (nearly all of them, with thousands of groups) cost nothing to rule out.
  const maxBelow = new Float64Array(groups.length + 1).fill(-Infinity);
  const minAbove = new Float64Array(groups.length + 1).fill(Infinity);
  for (let i = 0; i < groups.length; i++) maxBelow[i + 1] = Math.max(maxBelow[i]!, groups[i]!.max);
  for (let i = groups.length - 1; i >= 0; i--) minAbove[i] = Math.min(minAbove[i + 1]!, groups[i]!.min);
  let best: (PairEstimate & { score: number }) | null = null;
  for (let split = 1; split < groups.length; split++) {
    const lowMax = maxBelow[split]!;
    const highMin = minAbove[split]!;
    if (lowMax >= highMin) continue;
    const low = groups.slice(0, split);
    const high = groups.slice(split);
    const side = new Map<string, boolean>();
    for (const g of low) side.set(g.key, false);
    for (const g of high) side.set(g.key, true);
    let score = 0;
    for (const g of groups) {
      const reverse = side.get(g.reverse);
      if (reverse !== undefined && g.reverse !== g.key) score += reverse !== side.get(g.key) ? 1 : -1;
    }
    const gap = highMin - lowMax;
    if (best === null || score > best.score || (score === best.score && gap > 2 * best.uncertaintyNs)) {
      best = {
        a,
        b,
        differenceNs: Math.round((lowMax + highMin) / 2),
        atNs: 0,
        rate: 0,
        uncertaintyNs: Math.round(gap / 2),
        twoWay: true,
        samples: [count(high), count(low)],
        score,
      };
    }
  }
  if (best !== null) return best;
  // Traffic in one direction only (or groups that overlap): the smallest |d| is an upper bound
  // of the delay, nothing more. Take it as the offset, flagged.
  const every = groups.flatMap((g) => g.ds);
  const nearest = every.reduce((x, y) => (Math.abs(y) < Math.abs(x) ? y : x));
  return { a, b, differenceNs: nearest, atNs: 0, rate: 0, uncertaintyNs: Infinity, twoWay: false, samples: [every.length, 0] };
}

/** Groups of fewer packets than this show no drift of their own. */
const MIN_PACKETS_FOR_DRIFT = 8;
/** Nor do groups whose halves lie nearer in time than this: the noise of a delay would swamp it. */
const MIN_DRIFT_BASELINE_NS = 20e6;
/**
 * A steady estimate (the drift taken out) is taken over a two-way plain one when its gap is this
 * much wider, and the sample spans this long at least.
 */
const STEADIER = 2;
const MIN_SPAN_FOR_DRIFT_NS = 1e9;

/**
 * The NTP-style bound from the groups of one point pair, with a drifting clock taken into
 * account. A clock that drifts against the other moves every d with time: over a long sample
 * (one of sparse traffic can span minutes) by more than the smallest delay, which closes the
 * gap between the two directions. So the drift over the sample is estimated too, and where
 * taking it out of every d opens a clearly wider gap (STEADIER) over a long enough sample, or the
 * only two-way one, that estimate is the one given, with the drift as its rate. Without drift,
 * the two agree.
 */
function estimatePair(a: CapturePoint, b: CapturePoint, groups: Group[]): PairEstimate | null {
  const plain = splitDirections(a, b, groups);
  const rate = driftOverSample(groups);
  if (rate === 0) return plain;
  const times = groups.flatMap((g) => g.ts).sort((x, y) => x - y);
  const atNs = times[times.length >> 1]!;
  const steady = splitDirections(a, b, withoutDrift(groups, rate, atNs));
  if (steady === null || !steady.twoWay) return plain;
  if (plain !== null && plain.twoWay) {
    // Over a short sample, a few µs of jitter look like tens of ppm: the follower (clock-drift.ts)
    // finds a real drift from there.
    if (times[times.length - 1]! - times[0]! < MIN_SPAN_FOR_DRIFT_NS) return plain;
    if (steady.uncertaintyNs <= STEADIER * plain.uncertaintyNs) return plain;
  }
  return { ...steady, atNs, rate };
}

/**
 * How fast d changed over the sample, in ns per ns. Every group's packets cross the pair one
 * way, so its smallest d follows the offset difference (plus the smallest delay): the slope of
 * that from the group's first half to its second; the median over the groups, by packets.
 */
function driftOverSample(groups: readonly Group[]): number {
  const slopes: { slope: number; packets: number }[] = [];
  for (const { ds, ts } of groups) {
    const n = ds.length;
    if (n < MIN_PACKETS_FOR_DRIFT) continue;
    const half = n >> 1;
    let firstMin = Infinity;
    let secondMin = Infinity;
    let firstTime = 0;
    let secondTime = 0;
    for (let i = 0; i < half; i++) {
      firstMin = Math.min(firstMin, ds[i]!);
      firstTime += ts[i]!;
    }
    for (let i = half; i < n; i++) {
      secondMin = Math.min(secondMin, ds[i]!);
      secondTime += ts[i]!;
    }
    const baseline = secondTime / (n - half) - firstTime / half;
    if (baseline >= MIN_DRIFT_BASELINE_NS) slopes.push({ slope: (secondMin - firstMin) / baseline, packets: n });
  }
  if (slopes.length === 0) return 0;
  slopes.sort((x, y) => x.slope - y.slope);
  const total = slopes.reduce((sum, s) => sum + s.packets, 0);
  let seen = 0;
  for (const { slope, packets } of slopes) {
    seen += packets;
    if (seen * 2 >= total) return slope;
  }
  return 0;
}

/** The groups with the drift taken out of every d: as it would be at time atNs. */
function withoutDrift(groups: readonly Group[], rate: number, atNs: number): Group[] {
  return groups
    .map((g) => {
      const ds = g.ds.map((d, i) => d - rate * (g.ts[i]! - atNs));
      let min = Infinity;
      let max = -Infinity;
      for (const d of ds) {
        if (d < min) min = d;
        if (d > max) max = d;
      }
      return { ...g, ds, min, max };
    })
    .sort((x, y) => x.min - y.min || x.max - y.max);
}

function count(groups: readonly Group[]): number {
  return groups.reduce((n, g) => n + g.ds.length, 0);
}

/**
 * Offsets of every node relative to the reference node (the first point's), from sample
 * sightings per point. `given` (node → offset in ns, from --clock-offset) are taken as they are.
 */
export function estimateClockOffsets(
  points: readonly CapturePoint[],
  samples: readonly PointSample[],
  store: SightingStore,
  given: ReadonlyMap<string, number> = new Map(),
): ClockOffset[] {
  const nodes = [...new Set(points.map((p) => p.node))];
  const reference = points[0]?.node ?? '';

  // The best estimate per pair of nodes, over every pair of their points.
  const bestPerNodePair = new Map<string, PairEstimate>();
  for (const a of points) {
    for (const b of points) {
      if (a.index >= b.index || a.node === b.node) continue;
      const estimate = estimatePair(a, b, sharedDifferences(samples[a.index]!, samples[b.index]!, store));
      if (estimate === null) continue;
      const key = `${a.node}\0${b.node}`;
      const known = bestPerNodePair.get(key);
      if (known === undefined || better(estimate, known)) bestPerNodePair.set(key, estimate);
    }
  }

  // Dijkstra from the reference (and the given offsets) over the summed uncertainties, so that
  // each node is reached over the tightest chain of estimates.
  const result = new Map<string, ClockOffset>();
  const cost = new Map<string, number>();
  result.set(reference, { node: reference, offsetNs: 0, rate: 0, uncertaintyNs: 0, method: 'reference', reference, via: null, samples: null });
  cost.set(reference, 0);
  for (const [node, offsetNs] of given) {
    if (!nodes.includes(node) || node === reference) continue;
    result.set(node, { node, offsetNs, rate: 0, uncertaintyNs: null, method: 'given', reference, via: null, samples: null });
    cost.set(node, 0);
  }
  const done = new Set<string>();
  for (;;) {
    let current: string | undefined;
    for (const [node, c] of cost) if (!done.has(node) && (current === undefined || c < cost.get(current)!)) current = node;
    if (current === undefined) break;
    done.add(current);
    const from = result.get(current)!;
    for (const estimate of bestPerNodePair.values()) {
      const forward = estimate.a.node === current;
      if (!forward && estimate.b.node !== current) continue;
      const other = forward ? estimate.b.node : estimate.a.node;
      if (done.has(other)) continue;
      const stepCost = estimate.twoWay ? estimate.uncertaintyNs : 1e15 + Math.abs(estimate.differenceNs);
      const total = cost.get(current)! + stepCost;
      if (cost.has(other) && cost.get(other)! <= total) continue;
      cost.set(other, total);
      const chainUncertainty = from.uncertaintyNs === null ? 0 : from.uncertaintyNs;
      result.set(other, {
        node: other,
        ...chained(from, estimate, forward),
        uncertaintyNs: estimate.twoWay ? chainUncertainty + estimate.uncertaintyNs : null,
        method: estimate.twoWay ? (from.method === 'one-way' ? 'one-way' : 'two-way') : 'one-way',
        reference,
        via: [estimate.a.label, estimate.b.label],
        samples: estimate.samples,
      });
    }
  }
  return nodes.map(
    (node) => result.get(node) ?? { node, offsetNs: 0, rate: 0, uncertaintyNs: null, method: 'none', reference, via: null, samples: null },
  );
}

/**
 * The offset at the base time, and its rate, of the node a pair's estimate leads to from `from`
 * (`forward`: from a's node to b's). The estimate holds at time atNs of a's clock, which is the
 * reference clock's time plus a's node's offset: over 1.75 s of offset, 300 ppm of drift make
 * half a millisecond.
 */
function chained(from: ClockOffset, estimate: PairEstimate, forward: boolean): { offsetNs: number; rate: number } {
  const { differenceNs, atNs, rate } = estimate;
  if (forward) return { offsetNs: Math.round(from.offsetNs + differenceNs + rate * (from.offsetNs - atNs)), rate: from.rate + rate };
  // a's clock is the new node's: its offset o at time 0 is from.offsetNs - (differenceNs + rate * (o - atNs)).
  return { offsetNs: Math.round((from.offsetNs - differenceNs + rate * atNs) / (1 + rate)), rate: from.rate - rate };
}

function better(x: PairEstimate, y: PairEstimate): boolean {
  if (x.twoWay !== y.twoWay) return x.twoWay;
  return x.uncertaintyNs < y.uncertaintyNs;
}
