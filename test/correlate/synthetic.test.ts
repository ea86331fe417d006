import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scratchDir } from '../support/craft.js';
import { traceFiles } from './support.js';

/*
 * The bench's synthetic path (bench/generate-path.mjs): six captures of the static VXLAN path
 * with thousands of flows both ways, IP IDs that collide across flows, SYN-ACKs with IP ID 0,
 * TCP retransmissions with the same sequence and payload, node2's clock 1.75 s (or -2.5 s) off,
 * and 0.1% of the node1→node2 packets dropped between node2/eth0 and node2/vxlan11. The
 * generator writes down what it did (truth.json); trace must find exactly that.
 */

interface Truth {
  clock: { skewNs: number; ntpEstimateNs: number };
  points: { point: string; packets: number }[];
  loss: { count: number; after: string; before: string; node2Eth0Frames: number[] };
  tcp: { retransmissions: number };
}

// The generator is plain JavaScript over the built writers (npm test builds dist/ first).
const generator = (await import('../../bench/generate-path.mjs')) as unknown as {
  generatePath: (options: { packets: number; dir: string; skewNs?: number; seed?: number }) => Truth;
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
