import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openCapture } from '../../src/capture/open.js';
import { createDissector, formatIpv4, formatMac, type Packet } from '../../src/dissect/index.js';
import { scenarioFiles, traceFiles } from '../correlate/support.js';

const PRIMER_PATH = ['ns1/veth1a', 'node1/br0', 'node1/vxlan11', 'node1/eth0', 'node2/eth0', 'node2/vxlan11', 'node2/br0', 'ns2/veth2a'];

/*
 * The lab's manifests say, for the first packet of each flow, what a correct analyzer sees at
 * every hop (the primer's table: MACs, TTL, frame length, where the 50 bytes of VXLAN appear and
 * vanish). vxdump must see exactly that: on the committed fixtures, and on captures the running
 * kernel makes right now (the lab run in CI, where we are root).
 */

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURES = join(REPO, 'fixtures');

interface Hop {
  point: string;
  seen: boolean;
  frame?: number;
  frameLen?: number;
  encapsulated?: boolean;
  ethSrc?: string;
  ethDst?: string;
  ipSrc?: string;
  ipDst?: string;
  ipId?: number;
  ttl?: number;
  outer?: { ipSrc: string; ipDst: string; udpSrcPort: number; udpDstPort: number; vni: number };
}

interface Manifest {
  scenario: string;
  vxlan: { vni: number; udpPort: number };
  captures: { file: string; point: string | null }[];
  flows: { name: string; hops: Hop[] }[];
}

function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
}

/** The decoded frame `number` of a capture (frames are decoded while the reader is on them). */
function packetAt(path: string, number: number, vxlanPort: number): Packet | undefined {
  const dissect = createDissector({ vxlanPorts: [vxlanPort] });
  for (const frame of openCapture(path)) if (frame.index === number) return dissect(frame);
  return undefined;
}

/** What vxdump sees at one hop, in the manifest's terms. */
function observed(packet: Packet): Hop {
  const inner = packet.innerIpv4!;
  const eth = packet.innerEth!;
  const hop: Hop = {
    point: '',
    seen: true,
    frameLen: packet.frame.originalLength,
    encapsulated: packet.vxlan !== undefined,
    ethSrc: formatMac(eth.src),
    ethDst: formatMac(eth.dst),
    ipSrc: formatIpv4(inner.src),
    ipDst: formatIpv4(inner.dst),
    ipId: inner.id,
    ttl: inner.ttl,
  };
  if (packet.vxlan !== undefined) {
    hop.outer = {
      ipSrc: formatIpv4(packet.outerIpv4!.src),
      ipDst: formatIpv4(packet.outerIpv4!.dst),
      udpSrcPort: packet.outerUdp!.srcPort,
      udpDstPort: packet.outerUdp!.dstPort,
      vni: packet.vxlan.vni,
    };
  }
  return hop;
}

function checkScenario(dir: string): number {
  const manifest = readManifest(dir);
  let checked = 0;
  for (const flow of manifest.flows) {
    for (const hop of flow.hops.filter((h) => h.seen && h.frame !== undefined)) {
      const capture = manifest.captures.find((c) => c.point === hop.point);
      expect(capture, `${manifest.scenario}: no capture for ${hop.point}`).toBeDefined();
      const packet = packetAt(join(dir, capture!.file), hop.frame!, manifest.vxlan.udpPort);
      const where = `${manifest.scenario} ${flow.name} at ${hop.point} (frame ${hop.frame})`;
      expect(packet, where).toBeDefined();
      const seen = observed(packet!);
      const expected: Hop = { ...seen };
      for (const key of ['frameLen', 'encapsulated', 'ethSrc', 'ethDst', 'ipSrc', 'ipDst', 'ipId', 'ttl'] as const) {
        if (hop[key] !== undefined) (expected as unknown as Record<string, unknown>)[key] = hop[key];
      }
      if (hop.outer !== undefined) {
        const { ipSrc, ipDst, udpSrcPort, udpDstPort, vni } = hop.outer;
        expected.outer = { ipSrc, ipDst, udpSrcPort, udpDstPort, vni };
      }
      expect(seen, where).toEqual(expected);
      checked += 1;
    }
  }
  return checked;
}

const scenarios = existsSync(FIXTURES)
  ? readdirSync(FIXTURES).filter((name) => existsSync(join(FIXTURES, name, 'manifest.json')))
  : [];

describe('hop facts of the committed lab fixtures', () => {
  it('has the nine scenarios', () => {
    expect(scenarios.sort()).toEqual(['custom-4899', 'flannel-8472', 'loss', 'mtu', 'offload', 'p2p-4789', 'reject-4789', 'service-nat', 'ttl']);
  });

  it.each(scenarios.map((s) => [s]))('%s: every hop of every flow as the manifest says', (scenario) => {
    expect(checkScenario(join(FIXTURES, scenario))).toBeGreaterThanOrEqual(8);
  });

  it('p2p-4789: the primer table, TTL 64/64/63/63/63/63/62/62 and +50/-50 bytes', () => {
    const manifest = readManifest(join(FIXTURES, 'p2p-4789'));
    const request = manifest.flows.find((f) => f.name === 'icmp echo request')!;
    const seen = request.hops.map((hop) => {
      const capture = manifest.captures.find((c) => c.point === hop.point)!;
      return observed(packetAt(join(FIXTURES, 'p2p-4789', capture.file), hop.frame!, 4789)!);
    });
    expect(seen.map((h) => h.ttl)).toEqual([64, 64, 63, 63, 63, 63, 62, 62]);
    expect(seen.map((h) => h.frameLen)).toEqual([98, 98, 98, 148, 148, 98, 98, 98]);
    expect(seen.map((h) => h.outer?.vni ?? null)).toEqual([null, null, null, 11, 11, null, null, null]);
    expect(new Set(seen.map((h) => h.ipId)).size).toBe(1); // the inner IP ID survives every hop
  });
});

const canRunLab =
  process.getuid?.() === 0 && ['ip', 'tcpdump', 'tshark', 'dumpcap', 'nft'].every((tool) => spawnSync('which', [tool]).status === 0);
if (!canRunLab) console.warn('SKIPPED: the live lab test needs root, ip, tcpdump, tshark, dumpcap and nft (CI has them)');

describe.skipIf(!canRunLab)('the lab, run now against this kernel', () => {
  it('builds p2p-4789 afresh in network namespaces, and vxdump sees every hop as the kernel made it', () => {
    const out = mkdtempSync(join(tmpdir(), 'vxdump-lab-'));
    try {
      const run = spawnSync('bash', [join(REPO, 'scripts/lab/run.sh'), '--scenario', 'p2p-4789', '--out', out], {
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(run.status, run.stderr + run.stdout).toBe(0);
      expect(checkScenario(join(out, 'p2p-4789'))).toBeGreaterThanOrEqual(16);
      // vxdump trace over the fresh captures: the primer's path, its changes, nothing lost.
      const traced = traceFiles(scenarioFiles('p2p-4789', join(out, 'p2p-4789')), { vxlanPorts: [4789] });
      expect(traced.losses.total).toBe(0);
      const request = traced.result.flows.find((f) => f.name.startsWith('ICMP 10.244.1.2 \u2192 10.244.2.2'))!;
      expect(request.path.map((p) => traced.labels[p])).toEqual(PRIMER_PATH);
      const ttl = request.hops.map((h) => h.changes.find((c) => c.field === 'ip.ttl'));
      expect(ttl.map((c) => (c === undefined ? null : `${c.from}>${c.to}`))).toEqual([null, '64>63', null, null, null, '63>62', null]);
      expect(request.hops.map((h) => h.changes.find((c) => c.field === 'vxlan.vni')?.to ?? null)).toEqual([null, null, 11, null, null, null, null]);
      // The lab leaves nothing behind.
      expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toMatch(/vxlab-/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 180_000);

  it('builds reject-4789 afresh: the pings node2 rejects are lost at its eth0, each with the port unreachable node2 sent about it', () => {
    const out = mkdtempSync(join(tmpdir(), 'vxdump-lab-'));
    try {
      const run = spawnSync('bash', [join(REPO, 'scripts/lab/run.sh'), '--scenario', 'reject-4789', '--out', out], { encoding: 'utf8', timeout: 120_000 });
      expect(run.status, run.stderr + run.stdout).toBe(0);
      expect(checkScenario(join(out, 'reject-4789'))).toBeGreaterThanOrEqual(16);
      // The path given: one ping gets through, too little to infer the order from for sure (a
      // clock estimate half a µs off would put both eth0s last); p2p-4789 above checks inference.
      const traced = traceFiles(scenarioFiles('reject-4789', join(out, 'reject-4789')), { vxlanPorts: [4789], path: PRIMER_PATH });
      const lost = traced.packets.filter((p) => p.lost !== null);
      const described = (p: (typeof lost)[number]) => `${p.flow.name} ${p.sightings.map((s) => `${traced.labels[s.sighting.point]}#${s.sighting.frame}`).join(' ')} lost ${traced.labels[p.lost!.after]}→${traced.labels[p.lost!.before]}`;
      // Anything else node1 tunnels to node2 while the rule stands is refused there too (a loaded
      // CI run once had a third such packet, not named then); the two echo requests always are.
      const message = lost.map(described).join('\n');
      for (const packet of lost) expect([traced.labels[packet.lost!.after], traced.labels[packet.lost!.before]], message).toEqual(['node2/eth0', 'node2/vxlan11']);
      const requests = lost.filter((p) => p.flow.name.startsWith('ICMP 10.244.1.2 \u2192 10.244.2.2'));
      expect(requests, message).toHaveLength(2);
      for (const packet of requests) {
        expect(packet.icmpError).toMatchObject({ type: 3, code: 3, from: 0x0ad3377b }); // 10.211.55.123, node2's underlay address
      }
      expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toMatch(/vxlab-/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 180_000);
});
