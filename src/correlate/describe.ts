import { formatIpv4, formatMac, icmpTypeName, isFragmentationNeeded } from '../dissect/index.js';
import { Kind, NONE, type Sighting, type SightingStore } from './sighting.js';

/**
 * Words for flows and packets, from a sighting's numbers: the flow's name (taken at the
 * packet's first sighting, before any NAT) and the one thing that tells its packets apart.
 */

const TCP_FLAGS = ['F', 'S', 'R', 'P', '.', 'U', 'E', 'W'];
/** The letters of each TCP flag byte, made at its first use: a packet name is asked for every packet of a JSON trace. */
const flagLetters: (string | undefined)[] = new Array(256).fill(undefined);

/** "S.", "FP.": the letters of the flags set in the low byte of `flags`, in tcpdump's order. */
export function tcpFlagsText(flags: number): string {
  const byte = flags & 0xff;
  return (flagLetters[byte] ??= TCP_FLAGS.filter((_, bit) => (byte & (1 << bit)) !== 0).join(''));
}

function protocolName(proto: number): string {
  return proto === 6 ? 'TCP' : proto === 17 ? 'UDP' : proto === 1 ? 'ICMP' : `IP proto ${proto}`;
}

/** The fields flowName reads. */
const FLOW_FIELDS = ['kind', 'proto', 'ipSrc', 'srcPort', 'ipDst', 'dstPort', 'fragment', 'typeOrFlags', 'etherType', 'ethSrc', 'ethDst'] as const;
type FlowFields = Pick<Sighting, (typeof FLOW_FIELDS)[number]>;

/** flowName of a sighting still in the store, reading only the fields it needs (no snapshot of all). */
export function flowNameAt(store: SightingStore, slot: number): string {
  const fields = {} as Record<keyof FlowFields, number>;
  for (const name of FLOW_FIELDS) fields[name] = store[name][slot]!;
  return flowName(fields);
}

/** "TCP 10.244.1.2:41234 → 10.244.2.2:80", "ICMP 10.244.1.2 → 10.244.2.2 id 17363". */
export function flowName(s: FlowFields): string {
  switch (s.kind) {
    case Kind.Ipv4: {
      const name = protocolName(s.proto);
      if (s.proto === 6 || s.proto === 17) {
        return `${name} ${formatIpv4(s.ipSrc)}:${s.srcPort} \u2192 ${formatIpv4(s.ipDst)}:${s.dstPort}`;
      }
      const id = s.proto === 1 && s.srcPort !== NONE ? ` id ${s.srcPort}` : '';
      const fragments = isLaterFragment(s.fragment, s.typeOrFlags, s.srcPort) ? ' (later fragments)' : '';
      return `${name} ${formatIpv4(s.ipSrc)} \u2192 ${formatIpv4(s.ipDst)}${id}${fragments}`;
    }
    case Kind.Arp:
      return s.typeOrFlags === 1
        ? `ARP who-has ${formatIpv4(s.ipDst)} tell ${formatIpv4(s.ipSrc)}`
        : `ARP ${formatIpv4(s.ipSrc)} is-at ${macText(s.ethSrc)} (to ${formatIpv4(s.ipDst)})`;
    default:
      return `ethertype 0x${s.etherType.toString(16).padStart(4, '0')} ${macText(s.ethSrc)} \u2192 ${macText(s.ethDst)}`;
  }
}

/** A MAC, or "?" where a Linux cooked capture did not record it. */
function macText(mac: number): string {
  return mac < 0 ? '?' : formatMac(mac);
}

/** An IPv4 fragment other than the first: no transport header, so no ports or ICMP type. */
export function isLaterFragment(fragment: number, typeOrFlags: number, srcPort: number): boolean {
  return fragment === 1 && typeOrFlags === NONE && srcPort === NONE;
}

/** The fields packetName reads. */
type NamedFields = Pick<Sighting, 'kind' | 'typeOrFlags' | 'length' | 'ipId' | 'proto' | 'seq' | 'ack' | 'payloadLength' | 'code'>;

/** packetName of a sighting still in the store, reading only the fields it needs (no snapshot). */
export function packetNameAt(store: SightingStore, slot: number): string {
  return packetName({
    kind: store.kind[slot]!,
    typeOrFlags: store.typeOrFlags[slot]!,
    length: store.length[slot]!,
    ipId: store.ipId[slot]!,
    proto: store.proto[slot]!,
    seq: store.seq[slot]!,
    ack: store.ack[slot]!,
    payloadLength: store.payloadLength[slot]!,
    code: store.code[slot]!,
  });
}

/** What tells this packet apart within its flow: "echo request seq 2", "[S.] seq 1000 len 0", "time exceeded (TTL)". */
export function packetName(s: NamedFields): string {
  if (s.kind === Kind.Arp) return s.typeOrFlags === 1 ? 'request' : s.typeOrFlags === 2 ? 'reply' : `opcode ${s.typeOrFlags}`;
  if (s.kind !== Kind.Ipv4) return `${s.length} bytes`;
  const ipId = `ip id ${s.ipId}`;
  if (s.proto === 6 && s.typeOrFlags !== NONE) {
    return `[${tcpFlagsText(s.typeOrFlags)}] seq ${s.seq} ack ${s.ack} len ${s.payloadLength}, ${ipId}`;
  }
  if (s.proto === 1 && s.typeOrFlags !== NONE) {
    // Bytes 6-7 of the header: the echo sequence, or the next-hop MTU of "fragmentation needed".
    const seq = s.seq === NONE ? '' : isFragmentationNeeded(s.typeOrFlags, s.code) ? `, next-hop MTU ${s.seq}` : ` seq ${s.seq}`;
    return `${icmpTypeName(s.typeOrFlags, s.code)}${seq}, ${ipId}`;
  }
  if (s.proto === 17) return `len ${s.payloadLength}, ${ipId}`;
  return ipId;
}
