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
  /** This node's clock minus the reference node's clock, in ns. */
  offsetNs: number;
  /** Half the gap the estimate comes from; null where it was given or could not be bounded. */
  uncertaintyNs: number | null;
  method: 'reference' | 'two-way' | 'one-way' | 'given' | 'none';
  reference: string;
  /** The pair of points whose shared packets gave the estimate. */
  via: [string, string] | null;
  /** Packets of the pair in each direction. */
  samples: [number, number] | null;
}

/** Sample sightings (store slots) of one point, by identity; NONE for identities seen twice. */
export type PointSample = Map<number, number>;

/** Shared packets farther than this from the median difference are taken for chance matches. */
const PLAUSIBLE_SPREAD_NS = 1e9;

interface PairEstimate {
  a: CapturePoint;
  b: CapturePoint;
  /** offset(b's node) - offset(a's node) */
  differenceNs: number;
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
  min: number;
  max: number;
}

/** Packets seen once in each of two samples, as d = t(b) - t(a) grouped by their addresses. */
function sharedDifferences(a: PointSample, b: PointSample, store: SightingStore): Group[] {
  // Columns rather than an object per packet: with six points this runs for nine pairs over the
  // whole sample, and the objects (and a key string each) were most of the survey's garbage.
  const ds: number[] = [];
  const sources: number[] = [];
  const destinations: number[] = [];
  for (const [identity, at] of a) {
    if (at === NONE) continue;
    const bt = b.get(identity);
    if (bt === undefined || bt === NONE) continue;
    const other = store.kind[at] === Kind.Other;
    ds.push(store.timeNs[bt]! - store.timeNs[at]!);
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
      group = { key: `${src}>${dst}`, reverse: `${dst}>${src}`, ds: [], min: Infinity, max: -Infinity };
      byDestination.set(dst, group);
      groups.push(group);
    }
    group.ds.push(d);
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
function estimatePair(a: CapturePoint, b: CapturePoint, groups: Group[]): PairEstimate | null {
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
  return { a, b, differenceNs: nearest, uncertaintyNs: Infinity, twoWay: false, samples: [every.length, 0] };
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
  result.set(reference, { node: reference, offsetNs: 0, uncertaintyNs: 0, method: 'reference', reference, via: null, samples: null });
  cost.set(reference, 0);
  for (const [node, offsetNs] of given) {
    if (!nodes.includes(node) || node === reference) continue;
    result.set(node, { node, offsetNs, uncertaintyNs: null, method: 'given', reference, via: null, samples: null });
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
        offsetNs: from.offsetNs + (forward ? estimate.differenceNs : -estimate.differenceNs),
        uncertaintyNs: estimate.twoWay ? chainUncertainty + estimate.uncertaintyNs : null,
        method: estimate.twoWay ? (from.method === 'one-way' ? 'one-way' : 'two-way') : 'one-way',
        reference,
        via: [estimate.a.label, estimate.b.label],
        samples: estimate.samples,
      });
    }
  }
  return nodes.map(
    (node) => result.get(node) ?? { node, offsetNs: 0, uncertaintyNs: null, method: 'none', reference, via: null, samples: null },
  );
}

function better(x: PairEstimate, y: PairEstimate): boolean {
  if (x.twoWay !== y.twoWay) return x.twoWay;
  return x.uncertaintyNs < y.uncertaintyNs;
}
