import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Frame } from '../../src/capture/frame.js';
import { LinkType } from '../../src/capture/linktypes.js';
import { openCapture } from '../../src/capture/open.js';
import { PcapWriter } from '../../src/capture/writer.js';
import type { TracedPacket, TracedSighting } from '../../src/correlate/flows.js';
import { LossLog } from '../../src/correlate/losses.js';
import { parsePointArgument } from '../../src/correlate/points.js';
import { trace, type TraceOptions, type TraceResult } from '../../src/correlate/trace.js';
import { createDissector } from '../../src/dissect/index.js';
import { enhancedPacket, interfaceDescription, interfaceStatistics, sectionHeader } from '../support/craft.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** VXDUMP_PARALLEL_MIN_BYTES that starts trace's worker threads (the decoder, the JSON writer) for any size. */
export const PARALLEL_ALWAYS = '0';
/** VXDUMP_PARALLEL_MIN_BYTES that never starts them: the work is done on the main thread. */
export const PARALLEL_NEVER = '1e15';

/** The built CLI run with VXDUMP_PARALLEL_MIN_BYTES set (PARALLEL_ALWAYS, PARALLEL_NEVER). */
export function vxdumpWithThreshold(parallelMinBytes: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [join(REPO, 'bin/vxdump'), ...args], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, VXDUMP_PARALLEL_MIN_BYTES: parallelMinBytes },
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}
export const FIXTURES = join(REPO, 'fixtures');
export const SCENARIOS = ['p2p-4789', 'flannel-8472', 'custom-4899', 'loss', 'service-nat', 'mtu', 'offload', 'ttl', 'reject-4789'];

export interface ManifestHop {
  point: string;
  seen: boolean;
  frame?: number;
  frameLen?: number;
  encapsulated?: boolean;
  ethSrc?: string;
  ethDst?: string;
  ipSrc?: string;
  ipDst?: string;
  ttl?: number;
  outer?: { vni: number };
}

export interface Manifest {
  scenario: string;
  vxlan: { vni: number; udpPort: number };
  captures: { file: string; point: string | null }[];
  topology: { interfaces: { namespace: string; name: string; ifindex: number; mtu: number; addresses: string[] }[] };
  flows: { name: string; direction: string; hops: ManifestHop[] }[];
  loss?: { requests: { icmpSeq: number; ipId: number; lostBetween?: [string, string] }[] };
}

export function readManifest(scenario: string): Manifest {
  return JSON.parse(readFileSync(join(FIXTURES, scenario, 'manifest.json'), 'utf8')) as Manifest;
}

/** The lab calls points "node1-br0"; trace labels them node1/br0. */
export function labelOf(manifestPoint: string): string {
  return manifestPoint.replace('-', '/');
}

/** The eight single-interface captures of a scenario (not the -i any, ns-resolution or pcapng extras). */
export function scenarioFiles(scenario: string, dir = join(FIXTURES, scenario)): string[] {
  return readdirSync(dir)
    .filter((f) => /^[a-z0-9]+-[a-z0-9.-]+\.pcap$/.test(f) && !f.includes('-any.') && !f.endsWith('.ns.pcap'))
    .sort()
    .map((f) => join(dir, f));
}

export interface Traced {
  result: TraceResult;
  packets: TracedPacket[];
  losses: LossLog;
  labels: string[];
  /** The traced sighting (and its packet) at a point label and frame number. */
  at(label: string, frame: number): { packet: TracedPacket; sighting: TracedSighting } | undefined;
}

export function traceFiles(files: readonly string[], options: TraceOptions = {}): Traced {
  const packets: TracedPacket[] = [];
  const losses = new LossLog();
  const result = trace(files.map(parsePointArgument), {
    ...options,
    onPacket: (p) => {
      packets.push(p);
      losses.add(p);
    },
  });
  const labels = result.points.map((p) => p.point.label);
  const index = new Map<string, { packet: TracedPacket; sighting: TracedSighting }>();
  for (const packet of packets) {
    for (const sighting of packet.sightings) index.set(`${labels[sighting.sighting.point]} ${sighting.sighting.frame}`, { packet, sighting });
  }
  return { result, packets, losses, labels, at: (label, frame) => index.get(`${label} ${frame}`) };
}

export function traceScenario(scenario: string, options: TraceOptions = {}): Traced {
  return traceFiles(scenarioFiles(scenario), { vxlanPorts: [readManifest(scenario).vxlan.udpPort], ...options });
}

/** Copies a pcap with every timestamp moved by `shiftNs` (another node's clock). */
export function writeShifted(from: string, to: string, shiftNs: bigint): void {
  writeEdited(from, to, (frame) => ({ timestampNs: frame.timestampNs + shiftNs, bytes: frame.bytes }));
}

/**
 * Copies a pcap frame by frame through `edit` (`index` counts from 0), as nanosecond pcap; a
 * frame for which `edit` returns null is left out.
 */
export function writeEdited(from: string, to: string, edit: (frame: Frame, index: number) => { timestampNs: bigint; bytes: Uint8Array } | null): void {
  const capture = openCapture(from);
  let writer: PcapWriter | undefined;
  let index = 0;
  for (const frame of capture) {
    writer ??= new PcapWriter(to, { linkType: frame.linkType, nanosecond: true });
    const edited = edit(frame, index++);
    if (edited !== null) writer.write({ timestampNs: edited.timestampNs, originalLength: frame.originalLength, bytes: edited.bytes });
  }
  writer?.close();
}

/**
 * p2p-4789 as an overlay that does not work at all, written into `dir`: every echo request cut
 * out of the captures past node2/eth0 (as when node2's VXLAN device never takes them: another
 * VNI, another port, a firewall) and every echo reply cut out of all of them. Returns the files.
 */
export function writeStoppedPings(dir: string): string[] {
  const dissect = createDissector({ vxlanPorts: [4789] });
  const beyondEth0 = new Set(['node2-vxlan11.pcap', 'node2-br0.pcap', 'ns2-veth2a.pcap']);
  return scenarioFiles('p2p-4789').map((file) => {
    const copy = join(dir, basename(file));
    writeEdited(file, copy, (frame) => {
      const icmp = dissect(frame).transport;
      const echo = icmp?.protocol === 'icmp' && icmp.hasIdentifier ? icmp.type : undefined;
      return echo === 0 || (echo === 8 && beyondEth0.has(basename(file))) ? null : frame;
    });
    return copy;
  });
}

/**
 * p2p-4789 with every capture stopped just as the first echo reply was sent (at ns2/veth2a, the
 * reply's first point): the first request is in every capture, no reply in any. Captures named
 * in `runOn` go on to their end instead, with the echo replies cut out. Returns the files.
 */
export function writeStoppedBeforeFirstReply(dir: string, runOn: readonly string[] = []): string[] {
  const dissect = createDissector({ vxlanPorts: [4789] });
  const isEchoReply = (frame: Frame) => {
    const icmp = dissect(frame).transport;
    return icmp?.protocol === 'icmp' && icmp.hasIdentifier && icmp.type === 0;
  };
  const firstReply = [...openCapture(join(FIXTURES, 'p2p-4789', 'ns2-veth2a.pcap'))].find(isEchoReply)!.timestampNs;
  return scenarioFiles('p2p-4789').map((file) => {
    const copy = join(dir, basename(file));
    const runs = runOn.includes(basename(file));
    writeEdited(file, copy, (frame) => (isEchoReply(frame) || (!runs && frame.timestampNs >= firstReply) ? null : frame));
    return copy;
  });
}

/**
 * Copies a pcap into a pcapng of one nanosecond interface that ends, as dumpcap's do, with an
 * Interface Statistics Block: the capture's end `endAfterLastNs` after its last frame (negative:
 * before it, as in a file retimed after the capture), and what it dropped.
 */
export function writePcapngWithStatistics(from: string, to: string, statistics: { endAfterLastNs: bigint; interfaceDrops?: bigint; osDrops?: bigint }): void {
  const frames = [...openCapture(from)].map((frame) => ({ linkType: frame.linkType, timestampNs: frame.timestampNs, bytes: new Uint8Array(frame.bytes), originalLength: frame.originalLength }));
  const first = frames[0]!.timestampNs;
  const last = frames[frames.length - 1]!.timestampNs;
  const blocks = [sectionHeader(true), interfaceDescription(true, frames[0]!.linkType, { name: labelOf(basename(from).replace(/\.pcap$/, '')).split('/')[1]!, tsresol: 9 })];
  for (const frame of frames) blocks.push(enhancedPacket(true, 0, frame.timestampNs, frame.bytes, frame.originalLength));
  const endNs = last + statistics.endAfterLastNs;
  blocks.push(
    interfaceStatistics(true, 0, endNs, {
      startTicks: first - 1_000_000n,
      endTicks: endNs,
      received: BigInt(frames.length) + (statistics.interfaceDrops ?? 0n) + (statistics.osDrops ?? 0n),
      interfaceDrops: statistics.interfaceDrops ?? 0n,
      osDrops: statistics.osDrops,
    }),
  );
  writeFileSync(to, Buffer.concat(blocks));
}

/**
 * Merges single-interface pcaps into one pcapng in time order, as a writer that describes each
 * interface only when its first packet comes (an Interface Description Block just before it),
 * so that all but the first interface are described after packets. Interfaces are named after
 * the files (node1-vxlan11.pcap → vxlan11) and keep nanoseconds.
 */
export function writeLateInterfacePcapng(files: readonly string[], to: string): void {
  const frames = files.flatMap((file, id) => [...openCapture(file)].map((frame) => ({ id, timestampNs: frame.timestampNs, bytes: new Uint8Array(frame.bytes) })));
  frames.sort((x, y) => (x.timestampNs < y.timestampNs ? -1 : x.timestampNs > y.timestampNs ? 1 : x.id - y.id));
  const names = files.map((file) => labelOf(basename(file).replace(/\.pcap$/, '')).split('/')[1]!);
  const blocks = [sectionHeader(true)];
  let described = 0;
  for (const frame of frames) {
    // Ids in the order of the files: each is described before its first packet, at the latest.
    for (; described <= frame.id; described++) blocks.push(interfaceDescription(true, LinkType.EN10MB, { name: names[described]!, tsresol: 9 }));
    blocks.push(enhancedPacket(true, frame.id, frame.timestampNs, frame.bytes));
  }
  writeFileSync(to, Buffer.concat(blocks));
}
