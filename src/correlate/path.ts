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
 * the chain left out are placed by their packets' times (placeLeftOvers). Copies of one
 * interface (findCopies) count as one point throughout and are put side by side at the end.
 */
export interface PathOrder {
  /** Point indexes, first to last. */
  readonly points: readonly number[];
  readonly source: 'given' | 'inferred';
}

/**
 * `tickNs`: each point's clock resolution (1000 for a µs capture, 1 for ns), within which two
 * sightings cannot be told apart.
 */
export function inferOrder(pointCount: number, journeys: readonly Journey[], store: SightingStore, tickNs: readonly number[]): PathOrder {
  // Copies of one interface are ordered as one point, then put back beside it.
  const copyOf = findCopies(pointCount, journeys, store, tickNs);
  const weights = new Map<number, number>();
  let firstJourney: { point: number }[] | undefined;
  for (const journey of journeys) {
    const byTime = travelOf(journey, copyOf, store, tickNs);
    if (byTime.length < 2) continue;
    firstJourney ??= byTime;
    // Two sightings at the same instant (a µs clock at eth0 and at the VXLAN device right
    // behind it) say nothing about which came first, so neither says who its neighbours are:
    // such pairs are left out. The packets going the other way order them.
    const tied = (i: number) => (i > 0 && atOnce(byTime[i - 1]!, byTime[i]!)) || (i + 1 < byTime.length && atOnce(byTime[i + 1]!, byTime[i]!));
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
    if (placed.has(start) || neighbours[start]!.length === 2 || copyOf[start] !== start) continue;
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
  const order = placeLeftOvers(main, rest.flat(), journeys, copyOf, store, tickNs);
  // Each point, then its copies (it is the first of them).
  const withCopies = order.flatMap((point) => copyOf.flatMap((original, copy) => (original === point ? [copy] : [])));
  return { points: withCopies, source: 'inferred' };
}

const edgeKey = (a: number, b: number): number => Math.min(a, b) * 4096 + Math.max(a, b);

/** A sighting's time, and its capture's resolution: it happened in [correctedNs, correctedNs + tickNs). */
interface Moment {
  readonly correctedNs: number;
  readonly tickNs: number;
}

/** Whether two sightings may have been at the same instant, as far as their clocks can tell. */
function atOnce(x: Moment, y: Moment): boolean {
  return x.correctedNs < y.correctedNs + y.tickNs && y.correctedNs < x.correctedNs + x.tickNs;
}

/** Whether two sightings may have been at the same instant (see atOnce): their order in time says nothing. */
export function sameInstant(store: SightingStore, a: number, b: number, tickNs: readonly number[]): boolean {
  return atOnce(momentOf(a, store, tickNs), momentOf(b, store, tickNs));
}

function momentOf(slot: number, store: SightingStore, tickNs: readonly number[]): Moment {
  return { correctedNs: store.correctedNs[slot]!, tickNs: tickNs[store.point[slot]!]! };
}

/**
 * A journey's points in time order, each copy of a point taken as the point itself, once (at the
 * time of its finest clock).
 */
function travelOf(journey: Journey, copyOf: readonly number[], store: SightingStore, tickNs: readonly number[]): (Moment & { point: number })[] {
  const byTime: (Moment & { point: number })[] = [];
  for (const slot of journey.sightings) {
    const point = copyOf[store.point[slot]!]!;
    const seen = { point, ...momentOf(slot, store, tickNs) };
    const copy = byTime.findIndex((s) => s.point === point);
    if (copy < 0) byTime.push(seen);
    else if (seen.tickNs < byTime[copy]!.tickNs) byTime[copy] = seen;
  }
  return byTime.sort((x, y) => x.correctedNs - y.correctedNs);
}

/**
 * Points that are copies of one another: two captures of one interface (tcpdump -i any beside
 * tcpdump -i br0, a µs and a ns capture of eth0) see every packet they share at the same
 * instant, and say nothing about each other's place. Returns, per point, the point it is a copy
 * of (the first of its copies), or itself. Two points are copies when they saw at least two
 * packets together, each at once as far as their clocks tell.
 */
function findCopies(pointCount: number, journeys: readonly Journey[], store: SightingStore, tickNs: readonly number[]): number[] {
  const together = new Map<number, { same: number; apart: number }>();
  for (const journey of journeys) {
    const sightings = journey.sightings;
    for (let i = 0; i < sightings.length; i++) {
      for (let j = i + 1; j < sightings.length; j++) {
        const key = edgeKey(store.point[sightings[i]!]!, store.point[sightings[j]!]!);
        const pair = together.get(key) ?? { same: 0, apart: 0 };
        if (atOnce(momentOf(sightings[i]!, store, tickNs), momentOf(sightings[j]!, store, tickNs))) pair.same += 1;
        else pair.apart += 1;
        together.set(key, pair);
      }
    }
  }
  const copyOf = Array.from({ length: pointCount }, (_, i) => i);
  const find = (i: number): number => (copyOf[i] === i ? i : find(copyOf[i]!));
  for (const [key, { same, apart }] of [...together].sort((x, y) => x[0] - y[0])) {
    if (apart > 0 || same < 2) continue;
    const a = find(Math.floor(key / 4096));
    const b = find(key % 4096);
    if (a !== b) copyOf[Math.max(a, b)] = Math.min(a, b);
  }
  return copyOf.map((_, i) => find(i));
}

/**
 * The greedy chain leaves out a point whose neighbours were already taken: a second capture of
 * one interface (tcpdump -i any beside tcpdump -i eth0, a µs copy of a ns capture), or one
 * whose edges lost to a heavier pair. Each such point goes where its packets put it: between the
 * chain points seen just before and just after it in time, oriented by the packet's direction
 * along the chain, by majority. A point no packet relates to the chain goes at the end.
 */
function placeLeftOvers(
  main: number[],
  leftOvers: readonly number[],
  journeys: readonly Journey[],
  copyOf: readonly number[],
  store: SightingStore,
  tickNs: readonly number[],
): number[] {
  const order = [...main];
  for (const point of leftOvers) {
    const at = new Map(order.map((p, index) => [p, index]));
    // Packets seen there strictly between two chain points decide; a tie in time with a chain
    // point only counts when no packet orders it (a copy of one interface's capture).
    const ordered = new Map<number, number>();
    const beside = new Map<number, number>();
    for (const journey of journeys) {
      const place = placeIn(point, journey, at, copyOf, store, tickNs);
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
function placeIn(
  point: number,
  journey: Journey,
  at: ReadonlyMap<number, number>,
  copyOf: readonly number[],
  store: SightingStore,
  tickNs: readonly number[],
): { gap: number; tied: boolean } | null {
  let here: Moment | undefined;
  const onChain: (Moment & { index: number })[] = [];
  for (const slot of journey.sightings) {
    const seenAt = copyOf[store.point[slot]!]!;
    const index = at.get(seenAt);
    if (seenAt === point) here = momentOf(slot, store, tickNs);
    else if (index !== undefined) onChain.push({ index, ...momentOf(slot, store, tickNs) });
  }
  if (here === undefined || onChain.length < 2) return null;
  const timeNs = here.correctedNs;
  onChain.sort((x, y) => x.correctedNs - y.correctedNs);
  const same = onChain.find((s) => atOnce(s, here!));
  if (same !== undefined) return { gap: same.index + 1, tied: true };
  const forward = onChain[onChain.length - 1]!.index > onChain[0]!.index;
  const before = onChain.filter((s) => s.correctedNs < timeNs).pop();
  const after = onChain.find((s) => s.correctedNs > timeNs);
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
