import { describe, expect, it } from 'vitest';
import { estimateClockOffsets, type PointSample } from '../../src/correlate/clock.js';
import { ClockFollower } from '../../src/correlate/clock-drift.js';
import { Journey } from '../../src/correlate/journeys.js';
import type { CapturePoint } from '../../src/correlate/points.js';
import { Kind, NONE, SightingStore } from '../../src/correlate/sighting.js';

/*
 * Clocks that drift: the survey's estimate of the drift over its sample, and the follower that
 * keeps the offset right over the whole of the captures. Crafted pings between two nodes' eth0,
 * with delays of 40 to 60 µs as on a real underlay, so that the truth is known to the ns.
 */

const store = new SightingStore();
const NODE1 = 0x0ad3377a; // 10.211.55.122
const NODE2 = 0x0ad3377b; // 10.211.55.123
const point = (index: number, node: string): CapturePoint => ({ index, label: `${node}/eth0`, node, iface: 'eth0', file: `${node}.pcap` });
const points = [point(0, 'node1'), point(1, 'node2')];

function sighting(at: number, timeNs: number, identity: number, source: number): number {
  const slot = store.allocate();
  store.point[slot] = at;
  store.timeNs[slot] = timeNs;
  store.correctedNs[slot] = timeNs;
  store.identity[slot] = identity;
  store.kind[slot] = Kind.Ipv4;
  store.outerIpSrc[slot] = source;
  store.ipSrc[slot] = source;
  store.ipDst[slot] = source === NODE1 ? NODE2 : NODE1;
  store.vni[slot] = NONE;
  return slot;
}

/** node2's clock at true time t: `offset` ahead, running `ppm` fast, from `driftFrom` on. */
type Clock = (t: number) => number;
const drifting = (offset: number, ppm: number, driftFrom = 0): Clock => (t) => t + offset + Math.max(0, t - driftFrom) * ppm * 1e-6;

/** A well-mixed hash of `n` (a 32-bit integer): the delays' jitter, the same on every run. */
function jitter(n: number): number {
  let x = Math.imul(n ^ (n >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** A ping every `everyNs` for `count` pings: the request's and the reply's times at both ends, true time. */
function pings(count: number, everyNs: number): { request: [number, number]; reply: [number, number] }[] {
  return Array.from({ length: count }, (_, i) => {
    const t = i * everyNs;
    const there = 40_000 + (jitter(2 * i) % 20_000); // 40-60 µs
    const back = 40_000 + (jitter(2 * i + 1) % 20_000);
    return { request: [t, t + there], reply: [t + there + 30_000 + back, t + there + 30_000] };
  });
}

/** The survey's samples of both eth0s: node1's clock true, node2's `clock`. */
function samplesOf(exchanges: ReturnType<typeof pings>, clock: Clock): PointSample[] {
  const a: PointSample = new Map();
  const b: PointSample = new Map();
  exchanges.forEach(({ request, reply }, i) => {
    a.set(2 * i, sighting(0, request[0], 2 * i, NODE1));
    b.set(2 * i, sighting(1, clock(request[1]), 2 * i, NODE1));
    b.set(2 * i + 1, sighting(1, clock(reply[1]), 2 * i + 1, NODE2));
    a.set(2 * i + 1, sighting(0, reply[0], 2 * i + 1, NODE2));
  });
  return [a, b];
}

describe('clock drift: the survey', () => {
  it('finds a drift that closes the gap over a long sample, and gives the offset at the base time', () => {
    // 400 pings over 40 s, node2 running 30 ppm fast: 1.2 ms over the sample, ten times the delays.
    const clock = drifting(1_750_000_000, 30);
    const [, node2] = estimateClockOffsets(points, samplesOf(pings(400, 100e6), clock), store);
    expect(node2!.method).toBe('two-way');
    // The smallest delays are 40 µs each way: the offset at time 0 is found within a few µs.
    expect(Math.abs(node2!.offsetNs - 1_750_000_000)).toBeLessThan(5_000);
    expect(Math.abs(node2!.rate * 1e6 - 30)).toBeLessThan(1);
    expect(node2!.uncertaintyNs!).toBeGreaterThan(20_000);
  });

  it('gives no drift for a steady clock', () => {
    const clock = drifting(-3_000_000_000, 0);
    const [, node2] = estimateClockOffsets(points, samplesOf(pings(400, 100e6), clock), store);
    // The bound is exactly the smallest delay each way.
    const there = Math.min(...pings(400, 100e6).map((p) => p.request[1] - p.request[0]));
    const back = Math.min(...pings(400, 100e6).map((p) => p.reply[0] - p.reply[1]));
    expect(node2).toMatchObject({ method: 'two-way', rate: 0, uncertaintyNs: Math.round((there + back) / 2) });
    expect(node2!.offsetNs).toBe(-3_000_000_000 + Math.round((there - back) / 2));
  });
});

describe('clock drift: following it over the captures', () => {
  /**
   * Streams the pings through the follower as trace does: each sighting corrected when it comes,
   * each packet observed when its second sighting joins. Returns every packet's corrected delay
   * the way it went (negative: put the wrong way round) and the clocks at the end.
   */
  function follow(clock: Clock, count: number, everyNs: number) {
    // The survey's estimate from the first pings, as trace has it: the offset, steady, ± 40 µs.
    const survey = estimateClockOffsets(points, [new Map(), new Map()], store, new Map([['node2', 0]]));
    survey[1] = { ...survey[1]!, offsetNs: clock(0), method: 'two-way', uncertaintyNs: 40_000, via: ['node1/eth0', 'node2/eth0'], samples: [10, 10] };
    const follower = new ClockFollower(points, survey, [1, 1]);
    const delays: number[] = [];
    let id = 0;
    const packet = (from: [at: number, timeNs: number], to: [at: number, timeNs: number], source: number) => {
      const journey = new Journey();
      const slots = [from, to].map(([at, t]) => {
        const raw = at === 1 ? clock(t) : t;
        const slot = sighting(at, raw, id, source);
        store.correctedNs[slot] = raw - follower.offsetAt(at, raw);
        return slot;
      });
      journey.start(++id, id, slots[0]!, store.correctedNs[slots[0]!]!);
      journey.add(slots[1]!, store.correctedNs[slots[1]!]!);
      follower.observe(journey, slots[1]!, store);
      delays.push(store.correctedNs[slots[1]!]! - store.correctedNs[slots[0]!]!);
      for (const slot of slots) store.release(slot);
    };
    for (const { request, reply } of pings(count, everyNs)) {
      packet([0, request[0]], [1, request[1]], NODE1);
      packet([1, reply[1]], [0, reply[0]], NODE2);
    }
    return { delays, clock: follower.result() };
  }

  it('keeps every packet the right way round while the clock runs 50 ppm fast', () => {
    // 60 s of pings every 100 ms: 3 ms of drift, against delays of 40 µs and more.
    const { delays, clock } = follow(drifting(1_750_000_000, 50), 600, 100e6);
    expect(Math.min(...delays)).toBeGreaterThan(0);
    const drift = clock[1]!.drift!;
    expect(drift.corrections).toBeGreaterThan(0);
    expect(Math.abs(drift.nsPerSecond / 1000 - 50)).toBeLessThan(2);
    // At the last ping (59.9 s), node2 is 50 ppm × 59.9 s = 2.995 ms further ahead.
    expect(Math.abs(drift.endOffsetNs - (1_750_000_000 + 2_995_000))).toBeLessThan(20_000);
  });

  it('follows a clock that starts drifting on the way (NTP slewing it)', () => {
    // Steady for 20 s, then 50 ppm slow: 2 ms behind at the end.
    const { delays, clock } = follow(drifting(-2_000_000_000, -50, 20e9), 600, 100e6);
    expect(Math.min(...delays)).toBeGreaterThan(0);
    expect(Math.abs(clock[1]!.drift!.endOffsetNs - (-2_000_000_000 - 1_995_000))).toBeLessThan(20_000);
  });

  it('leaves a steady clock alone, however its delays vary', () => {
    const { delays, clock } = follow(drifting(1_750_000_000, 0), 600, 100e6);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(40_000);
    expect(clock[1]!.drift).toMatchObject({ corrections: 0, endOffsetNs: 1_750_000_000, nsPerSecond: 0 });
  });
});
