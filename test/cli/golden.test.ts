import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { scratchDir } from '../support/craft.js';

/*
 * Golden snapshots of `vxdump analyze` output: every format on a few lab captures and on a small
 * slice of the bench capture, compared byte for byte with the files in test/golden/. They pin
 * what users see while the printers and the summary are made faster.
 *
 * After an intended change of the output, rewrite them and review the diff:
 *
 *   npm run build && UPDATE_GOLDEN=1 npx vitest run test/cli/golden.test.ts && git diff test/golden
 *
 * test/golden/bench-200.pcap is the first 200 packets of the bench capture (bench/generate.mjs,
 * generator version 1, default seed), kept as a file so that bench changes do not move it: TCP
 * with payloads on many VNIs, ICMP, ARP inside VXLAN and plain underlay traffic.
 * test/golden/damaged-200.pcap is the same with bad checksums at every layer, snap-length cuts
 * and short frames (made by test/golden/make-damaged.mjs).
 */

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const GOLDEN = join(REPO, 'test/golden');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

interface Case {
  /** Golden file name under test/golden/. */
  name: string;
  /** Arguments after `vxdump`; paths relative to the repository, so the output names them so. */
  args: string[];
}

const P2P = 'fixtures/p2p-4789/node1-eth0.pcap';
const P2P_NODE2 = 'fixtures/p2p-4789/node2-eth0.pcap';
const FLANNEL = 'fixtures/flannel-8472/node1-eth0.pcap';
const MTU = 'fixtures/mtu/node1-eth0.pcap';
const CUSTOM = 'fixtures/custom-4899/node1-eth0.pcap';
const ANY = 'fixtures/p2p-4789/node1-any.pcap';
const PCAPNG = 'fixtures/p2p-4789/node1-multi.pcapng';
const NAT = 'fixtures/service-nat/node1-eth0.pcap';
const BENCH = 'test/golden/bench-200.pcap';
const DAMAGED = 'test/golden/damaged-200.pcap';

/** Every output format for one capture. */
function allFormats(prefix: string, file: string, extra: string[] = []): Case[] {
  return [
    { name: `${prefix}.text.txt`, args: ['analyze', file, ...extra] },
    { name: `${prefix}.verbose.txt`, args: ['analyze', file, '-v', ...extra] },
    { name: `${prefix}.table.txt`, args: ['analyze', file, '--format', 'table', ...extra] },
    { name: `${prefix}.summary.txt`, args: ['analyze', file, '--summary', ...extra] },
    { name: `${prefix}.ndjson`, args: ['analyze', file, '--format', 'ndjson', ...extra] },
    { name: `${prefix}.json`, args: ['analyze', file, '--format', 'json', ...extra] },
  ];
}

/** For the 200-frame captures: text and summary of all, the larger formats of the first 80 frames. */
function someFormats(prefix: string, file: string): Case[] {
  return [
    { name: `${prefix}.text.txt`, args: ['analyze', file] },
    { name: `${prefix}.summary.txt`, args: ['analyze', file, '--summary'] },
    { name: `${prefix}.summary-ndjson.json`, args: ['analyze', file, '--summary', '--format', 'ndjson'] },
    { name: `${prefix}.strict.summary.txt`, args: ['analyze', file, '--summary', '--strict-checksums', '--mtu', '1000'] },
    { name: `${prefix}.80.verbose.txt`, args: ['analyze', file, '-v', '--count', '80'] },
    { name: `${prefix}.80.table.txt`, args: ['analyze', file, '--format', 'table', '--count', '80'] },
    { name: `${prefix}.80.ndjson`, args: ['analyze', file, '--format', 'ndjson', '--count', '80'] },
  ];
}

const CASES: Case[] = [
  ...allFormats('p2p-node1-eth0', P2P),
  ...allFormats('flannel-node1-eth0', FLANNEL),
  ...allFormats('mtu-node1-eth0', MTU, ['--mtu', '1400']),
  ...someFormats('bench-200', BENCH),
  ...someFormats('damaged-200', DAMAGED),
  { name: 'p2p-merged.text.txt', args: ['analyze', P2P, P2P_NODE2] },
  { name: 'p2p-merged.summary.txt', args: ['analyze', P2P, P2P_NODE2, '--summary'] },
  { name: 'p2p-skip-count.ndjson', args: ['analyze', P2P, '--skip', '3', '--count', '4', '--format', 'ndjson'] },
  { name: 'p2p-node1-any.text.txt', args: ['analyze', ANY, '-v'] },
  { name: 'p2p-node1-any.ndjson', args: ['analyze', ANY, '--format', 'ndjson'] },
  { name: 'p2p-node1-multi.text.txt', args: ['analyze', PCAPNG, '-v'] },
  { name: 'p2p-node1-multi.ndjson', args: ['analyze', PCAPNG, '--format', 'ndjson'] },
  { name: 'custom-heuristic.text.txt', args: ['analyze', CUSTOM, '--vxlan-heuristic', '-v'] },
  { name: 'custom-heuristic.ndjson', args: ['analyze', CUSTOM, '--vxlan-heuristic', '--format', 'ndjson'] },
  { name: 'custom-no-vxlan.summary.txt', args: ['analyze', CUSTOM, '--summary'] },
  { name: 'service-nat-node1-eth0.text.txt', args: ['analyze', NAT] },
  { name: 'service-nat-node1-eth0.summary.json', args: ['analyze', NAT, '--summary', '--format', 'json'] },
];

/** VXDUMP_PARALLEL_MIN_BYTES: 0 makes `--summary` read every pcap in two halves (flow/parallel.ts), a huge value in one pass. */
const TWO_HALVES = { VXDUMP_PARALLEL_MIN_BYTES: '0' };
const ONE_PASS = { VXDUMP_PARALLEL_MIN_BYTES: '1e15' };

function spawn(args: string[], env: Record<string, string> = ONE_PASS) {
  return spawnSync('node', [join(REPO, 'bin/vxdump'), ...args], {
    encoding: 'utf8',
    cwd: REPO,
    maxBuffer: 64 << 20,
    env: { ...process.env, ...env },
  });
}

function run(args: string[], env?: Record<string, string>): string {
  const result = spawn(args, env);
  if (result.status !== 0) throw new Error(`vxdump ${args.join(' ')} exited with ${result.status}: ${result.stderr}`);
  if (result.stderr !== '') throw new Error(`vxdump ${args.join(' ')} wrote to standard error: ${result.stderr}`);
  return result.stdout;
}

/** The first line where two texts differ, for a readable failure. */
function firstDifference(expected: string, actual: string): string {
  const e = expected.split('\n');
  const a = actual.split('\n');
  for (let i = 0; i < Math.max(e.length, a.length); i++) {
    if (e[i] !== a[i]) return `line ${i + 1}:\n  golden: ${JSON.stringify(e[i])}\n  actual: ${JSON.stringify(a[i])}`;
  }
  return 'no line differs (line endings?)';
}

describe('vxdump analyze output matches the golden files byte for byte', () => {
  if (UPDATE) mkdirSync(GOLDEN, { recursive: true });

  it('has a golden file for every case and no case twice', () => {
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
    if (UPDATE) return;
    const missing = CASES.filter((c) => !existsSync(join(GOLDEN, c.name))).map((c) => c.name);
    expect(missing, 'missing golden files: run UPDATE_GOLDEN=1 npx vitest run test/cli/golden.test.ts').toEqual([]);
  });

  for (const c of CASES) {
    it(`vxdump ${c.args.join(' ')}  →  test/golden/${c.name}`, () => {
      const actual = run(c.args);
      const path = join(GOLDEN, c.name);
      if (UPDATE) {
        writeFileSync(path, actual);
        return;
      }
      if (!existsSync(path)) throw new Error(`no golden file test/golden/${c.name}: run UPDATE_GOLDEN=1 to write it`);
      const expected = readFileSync(path, 'utf8');
      if (actual !== expected) {
        expect.fail(
          `output differs from test/golden/${c.name} at ${firstDifference(expected, actual)}\n` +
            'If the change is intended, rewrite the goldens with `UPDATE_GOLDEN=1 npx vitest run test/cli/golden.test.ts` and review `git diff test/golden`.',
        );
      }
    });
  }

  for (const c of CASES.filter((x) => x.args.includes('--summary') && !UPDATE)) {
    it(`the same read in two halves (worker thread): ${c.name}`, () => {
      const actual = run(c.args, TWO_HALVES);
      const expected = readFileSync(join(GOLDEN, c.name), 'utf8');
      if (actual !== expected) expect.fail(`two halves differ from test/golden/${c.name} at ${firstDifference(expected, actual)}`);
    });
  }
});

describe('--summary in two halves = in one pass, warnings and errors included', () => {
  const dir = scratchDir('golden-');
  const bench = readFileSync(join(GOLDEN, 'bench-200.pcap'));
  /** Byte offsets of the records of bench-200.pcap. */
  const records: number[] = [];
  for (let at = 24; at < bench.length; at += 16 + bench.readUInt32LE(at + 8)) records.push(at);
  const variant = (name: string, edit: (b: Buffer) => Buffer) => {
    const path = join(dir, name);
    writeFileSync(path, edit(Buffer.from(bench)));
    return path;
  };
  const files = {
    'cut in the last record': variant('cut-record.pcap', (b) => b.subarray(0, b.length - 100)),
    'cut in the last record header': variant('cut-header.pcap', (b) => b.subarray(0, records.at(-1)! + 7)),
    'a corrupt record length late': variant('corrupt.pcap', (b) => {
      b.writeUInt32LE(0x7fffffff, records[170]! + 8);
      return b;
    }),
    'a fraction out of range late, another early': variant('fraction.pcap', (b) => {
      b.writeUInt32LE(1_500_000, records[150]! + 4);
      b.writeUInt32LE(2_500_000, records[180]! + 4);
      return b;
    }),
    'a fraction out of range late only': variant('fraction-late.pcap', (b) => {
      b.writeUInt32LE(1_500_000, records[150]! + 4);
      return b;
    }),
    damaged: join(GOLDEN, 'damaged-200.pcap'),
    'nanosecond pcap': join(REPO, 'fixtures/p2p-4789/node1-eth0.ns.pcap'),
  };
  // An early fraction warning must stay the only one: put one in the first half too.
  files['a fraction out of range late, another early'] = variant('fraction-both.pcap', (b) => {
    b.writeUInt32LE(1_500_000, records[20]! + 4);
    b.writeUInt32LE(2_500_000, records[180]! + 4);
    return b;
  });

  for (const [name, file] of Object.entries(files)) {
    for (const extra of [[], ['--mtu', '100', '--strict-checksums'], ['--format', 'json']]) {
      it(`${name} ${extra.join(' ')}`, () => {
        const args = ['analyze', file, '--summary', ...extra];
        const one = spawn(args, ONE_PASS);
        const two = spawn(args, TWO_HALVES);
        expect(two.stdout).toBe(one.stdout);
        expect(two.stderr).toBe(one.stderr);
        expect(two.status).toBe(one.status);
      });
    }
  }

});
