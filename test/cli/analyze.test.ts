import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CORPUS_DIR } from '../support/corpus.js';

/* `vxdump analyze` end to end, as users run it: the built CLI on the lab's kernel-made captures. */

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const fixture = (path: string) => join(REPO, 'fixtures', path);

function vxdump(...args: string[]) {
  const result = spawnSync('node', [join(REPO, 'bin/vxdump'), ...args], { encoding: 'utf8', cwd: REPO });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function ndjson(...args: string[]) {
  const run = vxdump(...args, '--format', 'ndjson');
  expect(run.status, run.stderr).toBe(0);
  const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line));
  return { packets: lines.filter((l) => l.type === 'packet'), summary: lines.at(-1) };
}

const p2p = JSON.parse(readFileSync(fixture('p2p-4789/manifest.json'), 'utf8'));

describe('vxdump analyze', () => {
  it('prints underlay | VNI | overlay on one line, as in the README', () => {
    const run = vxdump('analyze', fixture('p2p-4789/node1-eth0.pcap'));
    expect(run.status).toBe(0);
    const request = p2p.flows.find((f: { name: string }) => f.name === 'icmp echo request');
    const eth0 = request.hops.find((h: { point: string }) => h.point === 'node1-eth0');
    const [id, seq] = request.identity.l4.split('/').slice(3);
    const line = run.stdout.split('\n')[eth0.frame - 1];
    expect(line).toBe(
      `${new Date(Number(BigInt(eth0.timeNs) / 1_000_000n)).toISOString().slice(11, 23)}${(BigInt(eth0.timeNs) / 1000n % 1000n).toString().padStart(3, '0')} ` +
        `node1-eth0 10.211.55.122:${eth0.outer.udpSrcPort} > 10.211.55.123:4789 VXLAN vni 11 | ` +
        `${eth0.ethSrc} > ${eth0.ethDst} 10.244.1.2 > 10.244.2.2 ICMP echo request id ${id} seq ${seq} ttl 63, 148 bytes ` +
        '[bad udp checksum (offload?)]',
    );
    expect(run.stdout).toContain('ARP who-has 10.244.2.0 tell 10.244.1.0'); // the VTEP's ARP, inside the tunnel
    expect(run.stdout).toMatch(/10 packets, 1156 bytes; 8 in VXLAN; 0 malformed/);
  });

  it('decodes VXLAN on 8472 by default, and not when --vxlan-port replaces the defaults', () => {
    const flannel = fixture('flannel-8472/node1-eth0.pcap');
    const byDefault = ndjson('analyze', flannel);
    expect(byDefault.summary.vnis).toEqual([expect.objectContaining({ vni: 1 })]);
    expect(byDefault.summary.tunnels.every((t: { udpPort: number }) => t.udpPort === 8472)).toBe(true);
    const replaced = ndjson('analyze', flannel, '--vxlan-port', '4789');
    expect(replaced.summary.vxlanPackets).toBe(0);
  });

  it('decodes a custom port only when told, by --vxlan-port or the heuristic (and says which)', () => {
    const custom = fixture('custom-4899/node1-eth0.pcap');
    expect(ndjson('analyze', custom).summary.vxlanPackets).toBe(0);
    const told = ndjson('analyze', custom, '--vxlan-port', '4789,4899');
    expect(told.summary.vnis.map((v: { vni: number }) => v.vni)).toEqual([10001]);
    const guessed = ndjson('analyze', custom, '--vxlan-heuristic');
    expect(guessed.summary.vxlanPackets).toBe(told.summary.vxlanPackets);
    const vxlanLayer = guessed.packets.flatMap((p: { layers: { protocol: string; fields: Record<string, unknown> }[] }) => p.layers).find((l: { protocol: string }) => l.protocol === 'vxlan');
    expect(vxlanLayer.fields['vxlan.heuristic']).toBe(true);
    expect(vxdump('analyze', custom, '--vxlan-heuristic').stdout).toContain('VXLAN (heuristic) vni 10001 |');
  });

  it('writes one JSON document with schema, files, packets and summary', () => {
    const run = vxdump('analyze', fixture('p2p-4789/node1-vxlan11.pcap'), '--format', 'json');
    const doc = JSON.parse(run.stdout);
    expect(doc.schema).toBe('vxdump/1');
    expect(doc.files).toEqual([{ name: fixture('p2p-4789/node1-vxlan11.pcap'), format: 'pcap' }]);
    expect(doc.packets).toHaveLength(doc.summary.packets);
    const first = doc.packets[0];
    expect(first.frame).toMatchObject({ number: 1, linkType: 'EN10MB', interface: 0 });
    expect(first.frame.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    expect(first.layers[0]).toMatchObject({ protocol: 'eth', offset: 0, length: 14 });
  });

  it('merges several files by time and labels each packet with its file', () => {
    const a = fixture('p2p-4789/node1-eth0.pcap');
    const b = fixture('p2p-4789/node2-eth0.pcap');
    const { packets } = ndjson('analyze', a, b);
    expect(packets).toHaveLength(20);
    const times = packets.map((p: { frame: { timestampNs: string } }) => BigInt(p.frame.timestampNs));
    expect(times).toEqual([...times].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
    expect(new Set(packets.map((p: { file: string }) => p.file))).toEqual(new Set([a, b]));
  });

  it('honours --skip and --count, and --summary alone', () => {
    const file = fixture('flannel-8472/node1-cni0.pcap');
    const { packets } = ndjson('analyze', file, '--skip', '2', '--count', '3');
    expect(packets.map((p: { frame: { number: number } }) => p.frame.number)).toEqual([3, 4, 5]);
    const summaryOnly = vxdump('analyze', file, '--summary');
    expect(summaryOnly.stdout.split('\n')[0]).toMatch(/^\d+ packets, \d+ bytes/);
  });

  it('lists inner packets over the overlay MTU', () => {
    const { summary } = ndjson('analyze', fixture('mtu/node1-eth0.pcap'), '--mtu', '1400');
    expect(summary.mtu.limit).toBe(1400);
    expect(summary.mtu.exceeded).toBeGreaterThan(0);
    expect(summary.mtu.examples[0].innerLength).toBeGreaterThan(1400);
  });

  it('shows every field with -v and a table with --format table', () => {
    const verbose = vxdump('analyze', fixture('p2p-4789/node1-eth0.pcap'), '-v', '--count', '5');
    expect(verbose.stdout).toMatch(/vxlan @\d+\+8: .*vxlan\.vni=11/);
    expect(verbose.stdout).toMatch(/ip \(inner 1\) @\d+\+20: .*ip\.ttl=63/);
    const table = vxdump('analyze', fixture('p2p-4789/node1-eth0.pcap'), '--format', 'table');
    expect(table.stdout).toMatch(/│ underlay\s+│ VNI │ overlay/);
  });

  it('exits quietly with 0 when the reader of its output goes away (| head)', () => {
    for (const args of ['analyze --help', `analyze ${fixture('flannel-8472/node1-eth0.pcap')}`]) {
      const run = spawnSync('bash', ['-c', `node bin/vxdump ${args} | head -1 >/dev/null; exit \${PIPESTATUS[0]}`], {
        cwd: REPO,
        encoding: 'utf8',
      });
      expect(run.stderr, args).toBe('');
      expect(run.status, args).toBe(0);
    }
  });

  it('gives what a pcapng says of its own capture: packets received per interface as tshark counts them, and drops with a warning', () => {
    const file = fixture('p2p-4789/node1-multi.pcapng');
    const { summary } = ndjson('analyze', file);
    // dumpcap dropped nothing: what each interface received is what the file holds of it.
    const names = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.interface_name'], { encoding: 'utf8' }).stdout.trim().split('\n');
    const framesOf = (name: string) => names.filter((n) => n === name).length;
    expect(summary.captureStatistics.map((s: { interface: string }) => s.interface)).toEqual(['br0', 'vxlan11', 'eth0']);
    for (const s of summary.captureStatistics) expect(s, s.interface).toMatchObject({ file, received: framesOf(s.interface), interfaceDrops: 0, endNs: expect.stringMatching(/^\d{19}$/) });
    expect(vxdump('analyze', file, '--summary').stdout).toContain(`\nCapture statistics of ${file}, eth0: ${framesOf('eth0')} received, 0 dropped by the interface\n`);
    // A capture of the pcapng test suite that dropped 125 of 3,648 packets; a pcap says nothing.
    const dropped = join(CORPUS_DIR, 'pcapng-suite/pcarp/dmg_assoc_req.pcapng');
    expect(vxdump('analyze', dropped, '--summary').stdout).toContain(`\nCapture statistics of ${dropped}, wlan1: 3648 received, 125 dropped by the interface: the capture itself missed packets, whatever the network did\n`);
    expect(ndjson('analyze', fixture('p2p-4789/node1-eth0.pcap')).summary.captureStatistics).toBeUndefined();
  });

  it('says in one line, with exit 2, that output it cannot write (a full device) cannot be written', () => {
    for (const command of ['analyze', 'diff']) {
      const args = command === 'analyze' ? fixture('flannel-8472/node1-eth0.pcap') : `${fixture('flannel-8472/node1-eth0.pcap')} ${fixture('flannel-8472/node2-eth0.pcap')}`;
      const run = spawnSync('bash', ['-c', `node bin/vxdump ${command} ${args} > /dev/full`], { cwd: REPO, encoding: 'utf8' });
      expect(run.stderr, command).toBe('vxdump: cannot write the output: ENOSPC: no space left on device, write\n');
      expect(run.status, command).toBe(2);
    }
  });

  it('fails with exit code 2 and one clear line for bad options and bad files', () => {
    expect(vxdump('analyze', fixture('p2p-4789/node1-eth0.pcap'), '--format', 'xml')).toMatchObject({ status: 2, stderr: expect.stringMatching(/unknown --format "xml"/) });
    expect(vxdump('analyze', fixture('p2p-4789/node1-eth0.pcap'), '--vxlan-port', '70000')).toMatchObject({ status: 2, stderr: expect.stringMatching(/"70000" is not a UDP port/) });
    const missing = vxdump('analyze', 'nope.pcap');
    expect(missing).toMatchObject({ status: 2, stderr: 'vxdump: nope.pcap: no such file\n' });
    expect(vxdump('analyze', join(REPO, 'package.json')).stderr).toMatch(/not a pcap or pcapng capture/);
    expect(vxdump('--version').stdout.trim()).toBe(JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version);
  });

  it('shows each packet of a live pipe (tcpdump -w - | vxdump analyze -) as it comes, not when the pipe closes', async () => {
    // p2p-4789's node1-eth0.pcap fed a record at a time, the pipe left open in between: each
    // packet's line must come out before the next record is written.
    const capture = readFileSync(fixture('p2p-4789/node1-eth0.pcap'));
    const records: Buffer[] = [];
    for (let at = 24; at < capture.length; at += 16 + capture.readUInt32LE(at + 8)) records.push(capture.subarray(at, at + 16 + capture.readUInt32LE(at + 8)));
    const child = spawn('node', [join(REPO, 'bin/vxdump'), 'analyze', '-', '--format', 'ndjson'], { cwd: REPO, stdio: ['pipe', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (stdout += chunk));
    const linesOut = () => stdout.split('\n').filter((line) => line !== '').length;
    const waitForLines = async (count: number) => {
      for (const started = Date.now(); linesOut() < count; ) {
        if (Date.now() - started > 10_000) throw new Error(`after 10 s, ${linesOut()} lines out of ${count}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      child.stdin.write(capture.subarray(0, 24));
      for (const [i, record] of records.slice(0, 3).entries()) {
        child.stdin.write(record);
        await waitForLines(i + 1);
        expect(linesOut()).toBe(i + 1);
      }
      child.stdin.end(Buffer.concat(records.slice(3)));
    } finally {
      if (!child.stdin.writableEnded) child.kill();
    }
    const status = await closed;
    expect(status).toBe(0);
    const lines = stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines.map((l) => l.type)).toEqual([...records.map(() => 'packet'), 'summary']);
    expect(lines.slice(0, 3).map((l) => l.frame.number)).toEqual([1, 2, 3]);
  });

  it('on Ctrl-C in `tcpdump -w - | vxdump analyze -`, reads the pipe to its end and prints the summary', async () => {
    // The shell stands for the pipeline: `cat` for what tcpdump wrote, `sleep` for tcpdump still
    // running. Ctrl-C sends SIGINT to the whole process group; the writer dies of it, the pipe ends.
    const file = fixture('p2p-4789/node1-eth0.pcap');
    const frames = ndjson('analyze', file).packets.length;
    // bash exits with vxdump's status, or dies of SIGINT too if vxdump did.
    const script = `(cat '${file}'; sleep 30) | node bin/vxdump analyze - --format ndjson`;
    const child = spawn('bash', ['-c', script], { cwd: REPO, detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (stdout += chunk));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    for (const started = Date.now(); stdout.split('\n').length <= frames; ) {
      if (Date.now() - started > 10_000) throw new Error(`after 10 s, ${stdout.split('\n').length - 1} lines of ${frames}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    process.kill(-child.pid!, 'SIGINT');
    expect(await closed).toBe(0);
    const lines = stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines.map((l) => l.type)).toEqual([...Array(frames).fill('packet'), 'summary']);
    expect(lines.at(-1).packets).toBe(frames);
  });
});
