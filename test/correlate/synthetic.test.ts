import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scratchDir } from '../support/craft.js';
import { clockJson } from '../../src/report/trace-json-objects.js';
import { clockText } from '../../src/report/trace-text.js';
import { traceFiles } from './support.js';

/*
 * The bench's synthetic path (bench/generate-path.mjs): six captures of the static VXLAN path
 * with thousands of flows both ways, IP IDs that collide across flows, SYN-ACKs with IP ID 0,
 * TCP retransmissions with the same sequence and payload, node2's clock 1.75 s (or -2.5 s) off,
 * and 0.1% of the node1→node2 packets dropped between node2/eth0 and node2/vxlan11. The
 * generator writes down what it did (truth.json); trace must find exactly that.
 */

interface Truth {
  clock: { skewNs: number; ntpEstimateNs: number; driftPpm: number };
  durationNs: string;
  points: { point: string; packets: number }[];
  loss: { count: number; after: string; before: string; node2Eth0Frames: number[] };
  tcp: { retransmissions: number };
}

// The generator is plain JavaScript over the built writers (npm test builds dist/ first).
const generator = (await import('../../bench/generate-path.mjs')) as unknown as {
  generatePath: (options: { packets: number; dir: string; skewNs?: number; seed?: number; driftPpm?: number }) => Truth;
  POINT_FILES: string[];
};

describe('trace on the synthetic path of the bench', () => {
  const dir = scratchDir('path-');

  it.each([
    ['+1.75 s', 1_750_000_000, 0x5eed0011],
    ['-2.5 s', -2_500_000_000, 0x1234],
  ])('node2 %s: the offset, every point, exactly the lost packets', (_, skewNs, seed) => {
    const out = join(dir, String(seed));
    const truth = generator.generatePath({ packets: 30_000, dir: out, skewNs, seed });
    const files = generator.POINT_FILES.map((f) => join(out, f));
    const progress: number[] = [];
    const t = traceFiles(files, { onProgress: (fraction) => progress.push(fraction) });

    // About 180,000 frames merged: told every 65,536, each time further on, never past the end.
    expect(progress.length).toBe(Math.floor(t.result.points.reduce((n, p) => n + p.frames, 0) / 65_536));
    expect(progress.every((f, i) => f > (progress[i - 1] ?? 0) && f <= 1)).toBe(true);

    // The path starts where the first packet started: node1's end or node2's, per seed.
    const path = truth.points.map((p) => p.point);
    const order = t.result.order.points.map((i) => t.labels[i]);
    expect([path, [...path].reverse()]).toContainEqual(order);
    expect(t.result.points.map((p) => [p.point.label, p.frames])).toEqual(truth.points.map((p) => [p.point, p.packets]));
    const node2 = t.result.clock.find((c) => c.node === 'node2')!;
    expect(node2.method).toBe('two-way');
    expect(Math.abs(node2.offsetNs - truth.clock.skewNs)).toBeLessThan(100_000);

    // Lost: exactly the generator's drops, named at node2/eth0 by frame number.
    const lost = t.losses.all.flatMap((g) => g.packets.map((p) => ({ at: `${t.labels[g.after]} > ${t.labels[g.before]}`, frame: p.frame })));
    expect(lost.map((l) => l.at)).toEqual(Array(truth.loss.count).fill(`${truth.loss.after} > ${truth.loss.before}`));
    expect(lost.map((l) => l.frame).sort((a, b) => a - b)).toEqual([...truth.loss.node2Eth0Frames].sort((a, b) => a - b));
    expect(truth.loss.count).toBeGreaterThanOrEqual(5);
    expect(truth.tcp.retransmissions).toBeGreaterThan(0);

    // Every packet that was not lost is seen at all six points (the ARP that stays on one
    // segment aside), so no retransmission or colliding IP ID was matched to a wrong twin.
    const full = t.packets.filter((p) => p.sightings.length === 6).length;
    const partial = t.packets.filter((p) => p.sightings.length > 1 && p.sightings.length < 6 && p.lost === null);
    expect(partial.map((p) => p.flow.name).filter((name) => !name.startsWith('ARP'))).toEqual([]);
    expect(full).toBeGreaterThan(29_000 - truth.loss.count);
  });
});

describe('trace on the synthetic path with node2\'s clock drifting', () => {
  const dir = scratchDir('drift-');

  it.each([
    // 0.95 s: the first 20,000 frames show too little drift to tell, the rest 76 µs of it,
    // several times the smallest delay across the underlay: the trace follows it.
    ['+80 ppm', 80, 100_000],
    // 0.28 s: 85 µs of drift within the sample already, which the survey estimates.
    ['\u2212300 ppm', -300, 30_000],
  ])('node2 %s: exactly the lost packets, and the drift found', (_, driftPpm, packets) => {
    const out = join(dir, String(driftPpm));
    const truth = generator.generatePath({ packets, dir: out, driftPpm, seed: 0xd21f7 });
    const files = generator.POINT_FILES.map((f) => join(out, f));
    const t = traceFiles(files);

    // Every packet the right way round: no packet called lost but the generator's drops, and
    // every other one seen at all six points in order.
    const lost = t.losses.all.flatMap((g) => g.packets.map((p) => ({ at: `${t.labels[g.after]} > ${t.labels[g.before]}`, frame: p.frame })));
    expect(lost.map((l) => l.at)).toEqual(Array(truth.loss.count).fill(`${truth.loss.after} > ${truth.loss.before}`));
    expect(lost.map((l) => l.frame).sort((a, b) => a - b)).toEqual([...truth.loss.node2Eth0Frames].sort((a, b) => a - b));
    const partial = t.packets.filter((p) => p.sightings.length > 1 && p.sightings.length < 6 && p.lost === null);
    expect(partial.map((p) => p.flow.name).filter((name) => !name.startsWith('ARP'))).toEqual([]);
    // No hop took less than no time by more than the clocks' stated uncertainty.
    const node2 = t.result.clock.find((c) => c.node === 'node2')!;
    expect(node2.method).toBe('two-way');
    const shortest = t.packets.reduce((min, p) => p.sightings.reduce((m, s) => Math.min(m, s.deltaNs ?? 0), min), 0);
    expect(shortest).toBeGreaterThan(-node2.uncertaintyNs!);

    // The drift, from the first packet followed to the last.
    expect(Math.abs(node2.drift!.nsPerSecond / 1000 - driftPpm)).toBeLessThan(5);
    const durationNs = Number(truth.durationNs);
    expect(Math.abs(node2.drift!.endOffsetNs - (truth.clock.skewNs + (driftPpm * durationNs) / 1e6))).toBeLessThan(20_000);
    // And as the reports say it.
    expect(clockText(t.result.clock)).toMatch(/\n {9}drifting [+\u2212][\d.]+ ppm: \+1\.7\d+ s at the last packet, [\d.]+ ms on; (corrected \d+ times? by the traffic|as the sample showed it)$/);
    expect(clockJson(node2).drift).toEqual({
      corrections: node2.drift!.corrections,
      endOffsetNs: String(node2.drift!.endOffsetNs),
      spanNs: node2.drift!.spanNs,
      ppm: Math.round(node2.drift!.nsPerSecond) / 1000,
    });
  });
});
