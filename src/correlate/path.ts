import type { Journey } from './journeys.js';
import type { CapturePoint } from './points.js';
import type { SightingStore } from './sighting.js';

/**
 * The order of the capture points along the path, and each packet's sightings in that order.
 *
 * Without --path the order is inferred from sample journeys: two points are neighbours when
 * packets are seen at one and next at the other (in corrected time), whichever way they go.
 * The neighbour counts give a weighted graph whose heaviest simple path is the chain of points
 * (built greedily: heaviest edge first, no point with more than two neighbours, no cycle).
 * Requests and replies cross the chain in both directions, so the direction is taken from the
 * first packet that was seen at two points: the path starts where the traffic started. Points
 * the chain left out are placed by their packets' times (placeLeftOvers).
 */
export interface PathOrder {
  /** Point indexes, first to last. */
  readonly points: readonly number[];
  readonly source: 'given' | 'inferred';
}

export function inferOrder(pointCount: number, journeys: readonly Journey[], store: SightingStore): PathOrder {
  const weights = new Map<number, number>();
  const edgeKey = (a: number, b: number): number => Math.min(a, b) * 4096 + Math.max(a, b);
  let firstJourney: { point: number }[] | undefined;
  for (const journey of journeys) {
    if (journey.sightings.length < 2) continue;
    const byTime = journey.sightings
      .map((slot) => ({ point: store.point[slot]!, correctedNs: store.correctedNs[slot]! }))
      .sort((x, y) => x.correctedNs - y.correctedNs);
    firstJourney ??= byTime;
    // Two sightings at the same instant (a µs clock at eth0 and at the VXLAN device right
    // behind it) say nothing about which came first, so neither says who its neighbours are:
    // such pairs are left out. The packets going the other way order them.
    const tied = (i: number) =>
      (i > 0 && byTime[i - 1]!.correctedNs === byTime[i]!.correctedNs) ||
      (i + 1 < byTime.length && byTime[i + 1]!.correctedNs === byTime[i]!.correctedNs);
    for (let i = 1; i < byTime.length; i++) {
      if (tied(i - 1) || tied(i)) continue;
      const key = edgeKey(byTime[i - 1]!.point, byTime[i]!.point);
      weights.set(key, (weights.get(key) ?? 0) + 1);
    }
  }

  // Greedy heaviest path cover: ties go to the pair listed first, for a stable result.
  const edges = [...weights.entries()].sort((x, y) => y[1] - x[1] || x[0] - y[0]);
  const neighbours: number[][] = Array.from({ length: pointCount }, () => []);
  const component = Array.from({ length: pointCount }, (_, i) => i);
  const find = (i: number): number => (component[i] === i ? i : (component[i] = find(component[i]!)));
  for (const [key] of edges) {
    const a = Math.floor(key / 4096);
    const b = key % 4096;
    if (neighbours[a]!.length >= 2 || neighbours[b]!.length >= 2 || find(a) === find(b)) continue;
    neighbours[a]!.push(b);
    neighbours[b]!.push(a);
    component[find(a)] = find(b);
  }

  // Walk each chain from one end.
  const chains: number[][] = [];
  const placed = new Set<number>();
  for (let start = 0; start < pointCount; start++) {
    if (placed.has(start) || neighbours[start]!.length === 2) continue;
    const chain = [start];
    placed.add(start);
    for (let at = start; ; ) {
      const next = neighbours[at]!.find((n) => !placed.has(n));
      if (next === undefined) break;
      chain.push(next);
      placed.add(next);
      at = next;
    }
    chains.push(chain);
  }

  // Orient the first packet's chain so that it starts where that packet was seen first.
  if (firstJourney !== undefined) {
    const from = firstJourney[0]!.point;
    const to = firstJourney[firstJourney.length - 1]!.point;
    const chainIndex = chains.findIndex((chain) => chain.includes(from));
    const chain = chains[chainIndex]!;
    if (chain.includes(to) && chain.indexOf(from) > chain.indexOf(to)) chain.reverse();
    chains.splice(chainIndex, 1);
    chains.unshift(chain);
  }
  const [main = [], ...rest] = chains;
  return { points: placeLeftOvers(main, rest.flat(), journeys, store), source: 'inferred' };
}

/**
 * The greedy chain leaves out a point whose neighbours were already taken: a second capture of
 * one interface (tcpdump -i any beside tcpdump -i eth0, a µs copy of a ns capture), or one
 * whose edges lost to a heavier pair. Each such point goes where its packets put it: between the
 * chain points seen just before and just after it in time, oriented by the packet's direction
 * along the chain, by majority. A point no packet relates to the chain goes at the end.
 */
function placeLeftOvers(main: number[], leftOvers: readonly number[], journeys: readonly Journey[], store: SightingStore): number[] {
  const order = [...main];
  for (const point of leftOvers) {
    const at = new Map(order.map((p, index) => [p, index]));
    // Packets seen there strictly between two chain points decide; a tie in time with a chain
    // point only counts when no packet orders it (a copy of one interface's capture).
    const ordered = new Map<number, number>();
    const beside = new Map<number, number>();
    for (const journey of journeys) {
      const place = placeIn(point, journey, at, store);
      if (place === null) continue;
      const votes = place.tied ? beside : ordered;
      votes.set(place.gap, (votes.get(place.gap) ?? 0) + 1);
    }
    const best = [...(ordered.size > 0 ? ordered : beside).entries()].sort((x, y) => y[1] - x[1] || x[0] - y[0])[0];
    if (best === undefined) order.push(point);
    else order.splice(best[0], 0, point);
  }
  return order;
}

/**
 * Where in `at` (chain point → index) a journey puts `point`: the index it would be inserted
 * at, and whether only because it was seen at the same instant as a chain point; null if the
 * journey says nothing (not seen there, or fewer than two chain points to give the direction).
 */
function placeIn(point: number, journey: Journey, at: ReadonlyMap<number, number>, store: SightingStore): { gap: number; tied: boolean } | null {
  let timeNs: number | undefined;
  const onChain: { index: number; timeNs: number }[] = [];
  for (const slot of journey.sightings) {
    const index = at.get(store.point[slot]!);
    if (store.point[slot] === point) timeNs = store.correctedNs[slot]!;
    else if (index !== undefined) onChain.push({ index, timeNs: store.correctedNs[slot]! });
  }
  if (timeNs === undefined || onChain.length < 2) return null;
  onChain.sort((x, y) => x.timeNs - y.timeNs);
  const same = onChain.find((s) => s.timeNs === timeNs);
  if (same !== undefined) return { gap: same.index + 1, tied: true };
  const forward = onChain[onChain.length - 1]!.index > onChain[0]!.index;
  const before = onChain.filter((s) => s.timeNs < timeNs!).pop();
  const after = onChain.find((s) => s.timeNs > timeNs!);
  // Along the chain the point goes after what it followed; against it, before.
  if (forward) return { gap: before !== undefined ? before.index + 1 : after!.index, tied: false };
  return { gap: before !== undefined ? before.index : after!.index + 1, tied: false };
}

/** The order --path gives, as point indexes; every point must be named exactly once. */
export function givenOrder(labels: readonly string[], points: readonly CapturePoint[]): PathOrder | string {
  const byLabel = new Map(points.map((p) => [p.label, p.index]));
  const order: number[] = [];
  for (const label of labels) {
    const index = byLabel.get(label);
    if (index === undefined) return `--path names "${label}", which is not a capture point (points: ${points.map((p) => p.label).join(', ')})`;
    if (order.includes(index)) return `--path names "${label}" twice`;
    order.push(index);
  }
  const missing = points.filter((p) => !order.includes(p.index));
  if (missing.length > 0) return `--path leaves out ${missing.map((p) => p.label).join(', ')}; name every capture point`;
  return { points: order, source: 'given' };
}

/**
 * Puts a journey's sightings in path order, in the direction the packet travelled (in place):
 * along the path when it was seen earlier at the point nearer the start, against it otherwise.
 * They usually arrive in that order already, which is checked before anything is sorted.
 */
export function orderSightings(journey: Journey, position: readonly number[], store: SightingStore): void {
  const sightings = journey.sightings;
  const n = sightings.length;
  if (n === 1) return;
  const point = store.point;
  let ascending = true;
  let descending = true;
  for (let i = 1; i < n; i++) {
    const step = position[point[sightings[i]!]!]! - position[point[sightings[i - 1]!]!]!;
    if (step < 0) ascending = false;
    else descending = false;
  }
  if (!ascending && !descending) sightings.sort((x, y) => position[point[x]!]! - position[point[y]!]!);
  else if (descending) sightings.reverse();
  // Now ascending along the path: forward if the packet was there first at the start's end.
  journey.forward = store.correctedNs[sightings[0]!]! <= store.correctedNs[sightings[n - 1]!]!;
  if (!journey.forward) sightings.reverse();
}
