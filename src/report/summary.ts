import { formatIpv4, formatMac } from '../dissect/index.js';
import type { CaptureSummary, Conversation } from '../flow/summary.js';
import { renderTable, type TableCell } from './text-table.js';
import { isoTime } from './time.js';

/*
 * The summary at the end of `vxdump analyze`, as JSON (stable, sorted, documented in the README)
 * and as text tables for people.
 */

const PROTOCOL_NAMES: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp' };

export function protocolName(protocol: number): string {
  return PROTOCOL_NAMES[protocol] ?? String(protocol);
}

export interface SummaryJson {
  type: 'summary';
  packets: number;
  bytes: number;
  vxlanPackets: number;
  malformed: number;
  truncated: number;
  badChecksums: { header: number; transport: number };
  vnis: { vni: number; packets: number; bytes: number }[];
  tunnels: { outerSrc: string; outerDst: string; udpPort: number; vnis: number[]; packets: number; bytes: number }[];
  conversations: {
    vni: number | null;
    protocol: string;
    a: string;
    b: string;
    packets: number;
    bytes: number;
    first: string;
    last: string;
  }[];
  fdb: { vni: number; mac: string; vtep: string; ips: string[]; packets: number }[];
  arp: { vni: number | null; op: 'who-has' | 'is-at' | number; senderIp: string; senderMac: string; targetIp: string; packets: number }[];
  mtu?: { limit: number; exceeded: number; examples: { file: string; frame: number; vni: number | null; innerLength: number }[] };
  /**
   * What pcapng captures said of themselves in their Interface Statistics Blocks (dumpcap writes
   * them when it stops): per interface, packets received and dropped. Only where some were read.
   */
  captureStatistics?: CaptureStatisticsJson[];
}

/** One interface's statistics: its file, its name (or "interface N"), and statisticsJson's fields. */
export type CaptureStatisticsJson = { file: string; interface: string } & Record<string, unknown>;

function endpoint(address: number, port: number, protocol: number): string {
  return protocol === 6 || protocol === 17 ? `${formatIpv4(address)}:${port}` : formatIpv4(address);
}

const byNumber = (a: number, b: number) => a - b;

function conversationOrder(x: Conversation, y: Conversation): number {
  return (x.vni ?? -1) - (y.vni ?? -1) || (x.firstNs < y.firstNs ? -1 : x.firstNs > y.firstNs ? 1 : 0);
}

export function summaryToJson(summary: CaptureSummary, mtu?: number): SummaryJson {
  const json: SummaryJson = {
    type: 'summary',
    packets: summary.packets,
    bytes: summary.bytes,
    vxlanPackets: summary.vxlanPackets,
    malformed: summary.malformed,
    truncated: summary.truncated,
    badChecksums: { header: summary.badHeaderChecksums, transport: summary.badTransportChecksums },
    vnis: [...summary.vnis.values()].sort((a, b) => a.vni - b.vni).map((v) => ({ ...v })),
    tunnels: summary.tunnels
      .sort((a, b) => a.outerSrc - b.outerSrc || a.outerDst - b.outerDst || a.udpPort - b.udpPort)
      .map((t) => ({
        outerSrc: formatIpv4(t.outerSrc),
        outerDst: formatIpv4(t.outerDst),
        udpPort: t.udpPort,
        vnis: [...t.vnis].sort(byNumber),
        packets: t.packets,
        bytes: t.bytes,
      })),
    conversations: summary.conversations.sort(conversationOrder).map((c) => ({
      vni: c.vni,
      protocol: protocolName(c.protocol),
      a: endpoint(c.a, c.aPort, c.protocol),
      b: endpoint(c.b, c.bPort, c.protocol),
      packets: c.packets,
      bytes: c.bytes,
      first: isoTime(c.firstNs),
      last: isoTime(c.lastNs),
    })),
    fdb: summary.fdb
      .sort((a, b) => a.vni - b.vni || a.mac - b.mac)
      .map((e) => ({
        vni: e.vni,
        mac: formatMac(e.mac),
        vtep: formatIpv4(e.vtep),
        ips: [...e.ips].sort(byNumber).map(formatIpv4),
        packets: e.packets,
      })),
    arp: [...summary.arp.values()].map((a) => ({
      vni: a.vni,
      op: a.opcode === 1 ? ('who-has' as const) : a.opcode === 2 ? ('is-at' as const) : a.opcode,
      senderIp: formatIpv4(a.senderIp),
      senderMac: formatMac(a.senderMac),
      targetIp: formatIpv4(a.targetIp),
      packets: a.packets,
    })),
  };
  if (mtu !== undefined) json.mtu = { limit: mtu, exceeded: summary.oversizeCount, examples: summary.oversize };
  return json;
}

/** The summary as text: a few lines of counts, then one table per topic that has rows. */
export function summaryToText(json: SummaryJson): string {
  const lines: string[] = [];
  lines.push(
    `${json.packets} packets, ${json.bytes} bytes; ${json.vxlanPackets} in VXLAN; ` +
      `${json.malformed} malformed, ${json.truncated} truncated by the snap length; ` +
      `bad checksums: ${json.badChecksums.header} IPv4/ICMP, ${json.badChecksums.transport} UDP/TCP (offload?)`,
  );
  if (json.captureStatistics !== undefined) lines.push(...json.captureStatistics.map(statisticsLine));
  if (json.vnis.length > 0) {
    const rows: TableCell[][] = json.vnis.map((v) => [v.vni, v.packets, v.bytes]);
    lines.push('', 'VNIs', renderTable(['VNI', 'packets', 'bytes'], rows));
  }
  if (json.tunnels.length > 0) {
    const rows = json.tunnels.map((x) => [x.outerSrc, x.outerDst, x.udpPort, x.vnis.join(','), x.packets, x.bytes]);
    lines.push('', 'VXLAN tunnels', renderTable(['outer src', 'outer dst', 'UDP port', 'VNIs', 'packets', 'bytes'], rows));
  }
  if (json.conversations.length > 0) {
    const rows = json.conversations.map((c) => [
      c.vni ?? '-', c.protocol, c.a, c.b, c.packets, c.bytes, c.first.slice(11, 26), c.last.slice(11, 26),
    ]);
    lines.push('', 'Inner conversations', renderTable(['VNI', 'proto', 'A', 'B', 'packets', 'bytes', 'first', 'last'], rows));
  }
  if (json.fdb.length > 0) {
    const rows = json.fdb.map((e) => [e.vni, e.mac, e.vtep, e.ips.join(', '), e.packets]);
    lines.push('', 'Inner MACs behind VTEPs (the FDB the traffic implies)', renderTable(['VNI', 'inner MAC', 'behind VTEP', 'IPv4 (from ARP)', 'packets'], rows));
  }
  if (json.arp.length > 0) {
    const rows = json.arp.map((a) => [a.vni ?? '-', String(a.op), `${a.senderIp} (${a.senderMac})`, a.targetIp, a.packets]);
    lines.push('', 'ARP', renderTable(['VNI', 'ARP', 'sender', 'target IPv4', 'packets'], rows));
  }
  if (json.mtu !== undefined) {
    lines.push('', `Inner packets over the overlay MTU ${json.mtu.limit}: ${json.mtu.exceeded}`);
    for (const x of json.mtu.examples) {
      lines.push(`  ${x.file} frame ${x.frame}${x.vni === null ? '' : ` vni ${x.vni}`}: ${x.innerLength} bytes`);
    }
  }
  return lines.join('\n');
}

/**
 * "Capture statistics of node1.pcapng, eth0: 3648 received, 125 dropped by the interface, 0 by
 * the OS": a capture that dropped packets did not see all the traffic, whatever the network did.
 */
function statisticsLine(s: CaptureStatisticsJson): string {
  const parts: string[] = [];
  if (s.received !== null) parts.push(`${s.received} received`);
  if (s.interfaceDrops !== null) parts.push(`${s.interfaceDrops} dropped by the interface`);
  if (s.osDrops !== null) parts.push(`${s.osDrops} ${s.interfaceDrops === null ? 'dropped ' : ''}by the OS`);
  if (s.filterAccepted !== null) parts.push(`${s.filterAccepted} accepted by the filter`);
  const dropped = Number(s.interfaceDrops ?? 0) + Number(s.osDrops ?? 0);
  const warning = dropped > 0 ? ': the capture itself missed packets, whatever the network did' : '';
  return `Capture statistics of ${s.file}, ${s.interface}: ${parts.length === 0 ? 'no counts' : parts.join(', ')}${warning}`;
}
