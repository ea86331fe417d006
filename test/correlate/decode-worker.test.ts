import { copyFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCapture } from '../../src/capture/open.js';
import { generator, parsePointArgument, trace } from '../support/built.js';
import { scratchDir } from '../support/craft.js';
import { FIXTURES, PARALLEL_ALWAYS, PARALLEL_NEVER, readManifest, SCENARIOS, scenarioFiles, vxdumpWithThreshold, writeLateInterfacePcapng, writePcapngWithStatistics } from './support.js';

/*
 * trace's decode worker (src/correlate/decode-worker.ts) must change nothing but the speed: the
 * same packets, flows, counts, warnings and errors as reading the captures on the main thread.
 * The worker only exists as built JavaScript, so these tests run the built trace (npm test builds
 * dist/ first) and the CLI. VXDUMP_PARALLEL_MIN_BYTES picks the way: 0 starts the worker for any
 * size, a huge value never does.
 */

const WORKER = PARALLEL_ALWAYS;
const MAIN_THREAD = PARALLEL_NEVER;

/** trace() with the decoding done one way, and every packet it handed out. */
function traceWith(decoding: string, files: string[], vxlanPorts?: number[]) {
  const saved = process.env.VXDUMP_PARALLEL_MIN_BYTES;
  process.env.VXDUMP_PARALLEL_MIN_BYTES = decoding;
  try {
    const packets: Parameters<NonNullable<Parameters<typeof trace>[1]>['onPacket']>[0][] = [];
    const result = trace(files.map(parsePointArgument), { vxlanPorts, onPacket: (p) => packets.push(p) });
    return { result, packets };
  } finally {
    if (saved === undefined) delete process.env.VXDUMP_PARALLEL_MIN_BYTES;
    else process.env.VXDUMP_PARALLEL_MIN_BYTES = saved;
  }
}

function expectSameTrace(files: string[], vxlanPorts?: number[]): ReturnType<typeof traceWith> {
  const inWorker = traceWith(WORKER, files, vxlanPorts);
  const onMain = traceWith(MAIN_THREAD, files, vxlanPorts);
  expect(inWorker.result.decoder).toBe('worker thread');
  expect(onMain.result.decoder).toBe('main thread');
  expect({ ...inWorker.result, decoder: '' }).toEqual({ ...onMain.result, decoder: '' });
  expect(inWorker.packets).toEqual(onMain.packets);
  return inWorker;
}


describe('trace decodes in a worker thread exactly as on the main thread', () => {
  const dir = scratchDir('worker-');

  it.each(SCENARIOS)('%s: every capture point, result and packets the same', (name) => {
    const { result, packets } = expectSameTrace(scenarioFiles(name), [readManifest(name).vxlan.udpPort]);
    expect(result.matched).toBeGreaterThan(0);
    expect(packets.length).toBe(result.packets);
  });

  it('a multi-interface pcapng (read on the main thread) beside single-point captures (in the worker)', () => {
    const files = ['node1-multi.pcapng', 'node1-br0.pcap', 'node2-eth0.pcap', 'node2-br0.pcap'].map((f) => join(FIXTURES, 'p2p-4789', f));
    const { result } = expectSameTrace(files);
    expect(result.points.length).toBeGreaterThan(files.length);
  });

  it('a tcpdump -i any capture first: the captures after it are numbered after the points its sample makes, both ways', () => {
    // The worker begins before the samples only when no capture makes points from its frames;
    // here it begins once the -i any capture's sample has named its interfaces.
    const files = ['node1-any.pcap', 'node2-eth0.pcap', 'node2-br0.pcap'].map((f) => join(FIXTURES, 'p2p-4789', f));
    const { result } = expectSameTrace(files);
    const labels = result.points.map((p) => p.point.label);
    const anyPoints = labels.filter((label) => label.startsWith('node1/'));
    expect(anyPoints.length).toBeGreaterThan(2);
    expect(labels).toEqual([...anyPoints, 'node2/eth0', 'node2/br0']);
    expect(result.matched).toBeGreaterThan(0);
  });

  it('the synthetic path: rings refilled many times over, six captures at once', () => {
    const out = join(dir, 'path');
    generator.generatePath({ packets: 12_000, dir: out, seed: 7 });
    const { result } = expectSameTrace(generator.POINT_FILES.map((f) => join(out, f)));
    // 12,000 sightings per point pass through rings of 8,192 slots.
    expect(Math.min(...result.points.map((p) => p.frames))).toBeGreaterThan(8192);
  });

  it('a pcapng whose statistics say it dropped packets and ran on: the same statistics, spans and losses', () => {
    const pcapng = join(dir, 'node2-eth0.pcapng');
    writePcapngWithStatistics(join(FIXTURES, 'loss', 'node2-eth0.pcap'), pcapng, { endAfterLastNs: 1_000_000_000n, interfaceDrops: 7n });
    const files = scenarioFiles('loss').map((file) => (file.endsWith('/node2-eth0.pcap') ? pcapng : file));
    const { result } = expectSameTrace(files, [4789]);
    const eth0 = result.points.find((p) => p.point.label === 'node2/eth0')!;
    expect(eth0.statistics).toMatchObject({ interfaceDrops: 7, osDrops: null });
    expect(eth0.span.endNs).toBeGreaterThan(Math.max(...result.points.filter((p) => p !== eth0).map((p) => p.span.endNs)) + 0.9e9);
  });

  it('a capture cut short: the same packets before the cut and the same warning', () => {
    const cut = join(dir, 'node2-eth0.pcap');
    const whole = readFileSync(join(FIXTURES, 'loss', 'node2-eth0.pcap'));
    writeFileSync(cut, whole.subarray(0, whole.length - 30));
    const files = [join(FIXTURES, 'loss', 'node1-eth0.pcap'), cut];
    const { result } = expectSameTrace(files);
    expect(result.warnings.map((w) => w.message)).toEqual([expect.stringMatching(/ends in the middle of a record/)]);
    const runs = [WORKER, MAIN_THREAD].map((decoding) => vxdumpWithThreshold(decoding, 'trace', ...files));
    expect(runs[0]).toEqual(runs[1]);
    expect(runs[0]!.stderr).toMatch(/node2-eth0\.pcap: .*ends in the middle of a record/);
  });

  it('a corrupt record: the same error, naming the file and the frame, with exit 2', () => {
    const corrupt = join(dir, 'node1-vxlan11.pcap');
    copyFileSync(join(FIXTURES, 'loss', 'node1-vxlan11.pcap'), corrupt);
    const bytes = readFileSync(corrupt);
    // The 6th record's captured length, made larger than any record may be.
    let offset = 24;
    for (let i = 0; i < 5; i++) offset += 16 + bytes.readUInt32LE(offset + 8);
    bytes.writeUInt32LE(0x7fffffff, offset + 8);
    writeFileSync(corrupt, bytes);
    expect(statSync(corrupt).size).toBe(bytes.length);
    const files = [join(FIXTURES, 'loss', 'node1-br0.pcap'), corrupt];
    const runs = [WORKER, MAIN_THREAD].map((decoding) => vxdumpWithThreshold(decoding, 'trace', ...files));
    expect(runs[0]).toEqual(runs[1]);
    expect(runs[0]!.status).toBe(2);
    expect(runs[0]!.stderr).toMatch(/node1-vxlan11\.pcap: frame 6/);
  });

  it('a pcapng of one interface that describes others after the sample: the same points, left-out frames and warnings', () => {
    const late = join(dir, 'node1-late.pcapng');
    writeLateInterfacePcapng(['node1-br0.pcap', 'node1-vxlan11.pcap'].map((f) => join(FIXTURES, 'p2p-4789', f)), late);
    const files = [late, join(FIXTURES, 'p2p-4789', 'node2-eth0.pcap')];
    const runs = [WORKER, MAIN_THREAD].map((decoding) => vxdumpWithThreshold(decoding, 'trace', '--sample', '2', ...files, '--format', 'json'));
    expect(runs[0]).toEqual(runs[1]);
    expect(runs[0]!.status).toBe(0);
    const firstOfVxlan11 = [...openCapture(late)].find((frame) => frame.interfaceId === 1)!.index;
    expect(runs[0]!.stderr).toContain(`node1-late.pcapng: frame ${firstOfVxlan11}: interface vxlan11 first appears after the first 2 frames`);
    const points = JSON.parse(runs[0]!.stdout).points as { label: string; frames: number }[];
    expect(points.map((p) => [p.label, p.frames])).toEqual([
      ['node1/late', 8],
      ['node2/eth0', 10],
    ]);
  });

  it('diff: the same report both ways', () => {
    const [a, b] = ['node2-eth0.pcap', 'node2-vxlan11.pcap'].map((f) => join(FIXTURES, 'loss', f));
    const runs = [WORKER, MAIN_THREAD].map((decoding) => vxdumpWithThreshold(decoding, 'diff', a!, b!, '--format', 'json'));
    expect(runs[0]).toEqual(runs[1]);
    expect(JSON.parse(runs[0]!.stdout).schema).toBe('vxdump-diff/1');
  });
});

