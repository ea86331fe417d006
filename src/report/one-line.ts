import {
  type ArpLayer,
  formatIpv4,
  formatMac,
  type IcmpLayer,
  type Ipv4Layer,
  type Layer,
  type Packet,
  type TcpLayer,
  type UdpLayer,
} from '../dissect/index.js';
import { clockTime } from './time.js';

/*
 * One line per packet in the spirit of `tcpdump -nn -e`, with the underlay and the overlay on
 * the same line and the VNI between them:
 *
 *   04:37:39.770860 node1-eth0 10.211.55.122:34366 > 10.211.55.123:4789 VXLAN vni 11 |
 *     02:00:0a:f4:01:00 > 02:00:0a:f4:02:00 10.244.1.2 > 10.244.2.2 ICMP echo request id 7 seq 1 ttl 63, 148 bytes
 */

export function packetLine(packet: Packet, point: string): string {
  const parts: string[] = [clockTime(packet.frame.timestampNs), point];
  const layers = packet.layers;
  let ip: Ipv4Layer | undefined; // the IPv4 header the next transport header belongs to
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i]!;
    if (layer.quoted) continue;
    if (layer.protocol === 'vxlan') {
      // The underlay's description ends at its UDP header; say the tunnel and start the overlay.
      const heuristic = layer.heuristic ? ' (heuristic)' : '';
      parts.push(`VXLAN${heuristic} vni ${layer.vni}${layer.gbp && layer.flags & 0x8000 ? ` gbp ${layer.gbp}` : ''} |`);
      continue;
    }
    if (layer.protocol === 'ip') ip = layer;
    const text = describe(layer, packet, ip, layers[i + 1]);
    if (text !== undefined) parts.push(text);
  }
  const notes = packetNotes(packet);
  return `${parts.join(' ')}, ${packet.frame.originalLength} bytes${notes}`;
}

/** The innermost layers already print addresses with ports; only the last IPv4 adds its TTL. */
function describe(layer: Layer, packet: Packet, ip: Ipv4Layer | undefined, next: Layer | undefined): string | undefined {
  switch (layer.protocol) {
    case 'eth':
      // The underlay MACs of a VXLAN packet say little; the inner ones say who routed it.
      return packet.vxlan !== undefined && layer.depth === 0 ? undefined : `${formatMac(layer.src)} > ${formatMac(layer.dst)}`;
    case 'vlan':
    case 'ieee8021ad':
      return `vlan ${layer.id}${layer.priority ? ` p ${layer.priority}` : ''}`;
    case 'sll':
      return undefined;
    case 'null':
      return undefined;
    case 'arp':
      return describeArp(layer);
    case 'ip':
      return undefined; // printed with its transport below, or alone if there is none
    case 'udp':
      return describeUdp(layer, packet, ip, next?.protocol === 'vxlan');
    case 'tcp':
      return describeTcp(layer, packet, ip);
    case 'icmp':
      return describeIcmp(layer, packet, ip);
  }
}

function addressPair(ip: Ipv4Layer | undefined, srcPort?: number, dstPort?: number): string {
  if (ip === undefined) return '';
  const src = formatIpv4(ip.src) + (srcPort === undefined ? '' : `:${srcPort}`);
  const dst = formatIpv4(ip.dst) + (dstPort === undefined ? '' : `:${dstPort}`);
  return `${src} > ${dst}`;
}

function ttlOf(packet: Packet, ip: Ipv4Layer | undefined): string {
  // Only the workload's headers get a TTL: that is the one routing changes hop by hop.
  return ip !== undefined && ip.depth === packet.tunnelDepth ? ` ttl ${ip.ttl}` : '';
}

function describeUdp(udp: UdpLayer, packet: Packet, ip: Ipv4Layer | undefined, carriesVxlan: boolean): string {
  const pair = addressPair(ip, udp.srcPort, udp.dstPort);
  if (carriesVxlan) return pair; // "VXLAN vni N |" follows
  return `${pair} UDP length ${udp.payloadLength}${ttlOf(packet, ip)}`;
}

const TCP_FLAG_LETTERS: [number, string][] = [
  [0x02, 'S'],
  [0x01, 'F'],
  [0x04, 'R'],
  [0x08, 'P'],
  [0x20, 'U'],
  [0x40, 'E'],
  [0x80, 'W'],
  [0x10, '.'],
];

function describeTcp(tcp: TcpLayer, packet: Packet, ip: Ipv4Layer | undefined): string {
  const flags = TCP_FLAG_LETTERS.filter(([bit]) => tcp.flags & bit)
    .map(([, letter]) => letter)
    .join('');
  const ack = tcp.flags & 0x10 ? ` ack ${tcp.ack}` : '';
  return (
    `${addressPair(ip, tcp.srcPort, tcp.dstPort)} TCP [${flags || 'none'}] seq ${tcp.seq}${ack}` +
    ` win ${tcp.window} length ${tcp.payloadLength}${ttlOf(packet, ip)}`
  );
}

function describeIcmp(icmp: IcmpLayer, packet: Packet, ip: Ipv4Layer | undefined): string {
  let text = `${addressPair(ip)} ICMP ${icmp.typeName}`;
  if (icmp.hasIdentifier) text += ` id ${icmp.ident} seq ${icmp.seq}`;
  if (icmp.type === 3 && icmp.code === 4) text += ` mtu ${icmp.mtu}`;
  return text + ttlOf(packet, ip);
}

function describeArp(arp: ArpLayer): string {
  if (arp.opcode === 1) {
    const gratuitous = arp.senderIp === arp.targetIp ? 'gratuitous ' : '';
    return `ARP ${gratuitous}who-has ${formatIpv4(arp.targetIp)} tell ${formatIpv4(arp.senderIp)}`;
  }
  if (arp.opcode === 2) return `ARP ${formatIpv4(arp.senderIp)} is-at ${formatMac(arp.senderMac)}`;
  return `ARP opcode ${arp.opcode}`;
}

/** Trailing remarks: where decoding stopped, and checksums that did not verify. */
function packetNotes(packet: Packet): string {
  const notes: string[] = [];
  const lastIp = packet.last('ip');
  const transport = packet.layers.findLast((l) => (l.protocol === 'tcp' || l.protocol === 'udp' || l.protocol === 'icmp') && !l.quoted);
  if (lastIp !== undefined && transport === undefined && packet.error === null) {
    notes.push(`IPv4 ${formatIpv4(lastIp.src)} > ${formatIpv4(lastIp.dst)} proto ${lastIp.proto}${lastIp.fragOffset ? ` frag offset ${lastIp.fragOffset * 8}` : ''}`);
  }
  for (const layer of packet.layers) {
    if (layer.quoted || !('checksumStatus' in layer) || layer.checksumStatus !== 'bad') continue;
    const offload = layer.protocol === 'tcp' || layer.protocol === 'udp' ? ' (offload?)' : '';
    notes.push(`bad ${layer.protocol} checksum${offload}`);
  }
  if (packet.error !== null) notes.push(`malformed: ${packet.error.message}`);
  return notes.length === 0 ? '' : ` [${notes.join('; ')}]`;
}

/** Text label of a capture point: the pcapng interface name, else the file name without extension. */
export function pointLabel(file: string, interfaceName: string | undefined): string {
  if (interfaceName !== undefined) return interfaceName;
  if (file === '-') return 'stdin';
  const base = file.slice(file.lastIndexOf('/') + 1);
  return base.replace(/\.(pcapng|pcap|cap|ntar)$/i, '');
}
