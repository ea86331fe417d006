import type { Packet } from '../dissect/index.js';
import { IdentityHash } from './identity-hash.js';

/** What a sighting's innermost payload is. */
export const Kind = {
  Ipv4: 0,
  Arp: 1,
  /** Anything else (IPv6, LLDP, ...): identified by its bytes, not by fields. */
  Other: 2,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

/** Payload bytes that go into a packet's identity: enough to tell segments apart, cheap to hash. */
const PAYLOAD_BYTES_HASHED = 64;
/** "No such header" for the numeric fields below. */
export const NONE = -1;

/**
 * One packet seen at one capture point, reduced to the numbers correlation needs. The frame's
 * bytes belong to the reader and are gone by the time the journey is complete, so everything
 * the report shows later is copied out here. Numbers only: MACs as 48-bit and IPv4 addresses as
 * 32-bit integers, turned into text only when printed.
 *
 * `identity` is what survives every hop (see identityOf): the same packet has the same identity
 * at the pod's veth, inside VXLAN on eth0 and behind a NAT; two different packets almost never do.
 */
export class Sighting {
  /** Capture time in ns since the trace's base time, as the capture recorded it. */
  timeNs = 0;
  /** timeNs with the point's clock offset removed: comparable across nodes. */
  correctedNs = 0;
  /** The packet as the point saw it. */
  length = 0;
  identity = 0;
  kind: Kind = Kind.Other;

  /** Outermost VXLAN header and the underlay around it; vni NONE when not encapsulated. */
  vni = NONE;
  outerEthSrc = NONE;
  outerEthDst = NONE;
  outerIpSrc = NONE;
  outerIpDst = NONE;
  outerTtl = NONE;
  outerSrcPort = NONE;
  outerDstPort = NONE;

  /** The innermost Ethernet header. */
  ethSrc = NONE;
  ethDst = NONE;
  etherType = NONE;

  /** The innermost IPv4 header (for ARP: sender and target protocol addresses). */
  ipSrc = NONE;
  ipDst = NONE;
  ipId = NONE;
  ttl = NONE;
  proto = NONE;
  /** TCP/UDP ports, or for ICMP the echo identifier in srcPort. */
  srcPort = NONE;
  dstPort = NONE;
  /** ICMP type and code, TCP flags, ARP opcode: what the one-line description shows. */
  typeOrFlags = NONE;
  code = NONE;
  /** ICMP echo sequence, TCP sequence number. */
  seq = NONE;
  ack = NONE;
  payloadLength = NONE;
  /** An IPv4 fragment (more fragments follow, or not the first): the original was split. */
  fragment = false;

  constructor(
    /** Index of the capture point. */
    readonly point: number,
    /** Frame number in its capture file (1-based, as Wireshark counts). */
    readonly frame: number,
  ) {}

  get encapsulated(): boolean {
    return this.vni !== NONE;
  }
}

const hash = new IdentityHash();

/**
 * Copies what correlation needs out of a decoded packet. Returns null for a frame with nothing
 * to identify it by (a truncated Ethernet header).
 */
export function sightingOf(packet: Packet, point: number, timeNs: number): Sighting | null {
  const eth = packet.innerEth;
  if (eth === undefined) return null;
  const sighting = new Sighting(point, packet.frame.index);
  sighting.timeNs = timeNs;
  sighting.correctedNs = timeNs;
  sighting.length = packet.frame.originalLength;
  sighting.ethSrc = eth.src;
  sighting.ethDst = eth.dst;
  sighting.etherType = eth.type;

  const vxlan = packet.vxlan;
  if (vxlan !== undefined) {
    sighting.vni = vxlan.vni;
    const outerEth = packet.first('eth', 0);
    if (outerEth !== undefined) {
      sighting.outerEthSrc = outerEth.src;
      sighting.outerEthDst = outerEth.dst;
    }
    const outerIp = packet.outerIpv4;
    if (outerIp !== undefined) {
      sighting.outerIpSrc = outerIp.src;
      sighting.outerIpDst = outerIp.dst;
      sighting.outerTtl = outerIp.ttl;
    }
    const outerUdp = packet.outerUdp;
    if (outerUdp !== undefined) {
      sighting.outerSrcPort = outerUdp.srcPort;
      sighting.outerDstPort = outerUdp.dstPort;
    }
  }

  const bytes = packet.frame.bytes;
  const ip = packet.innerIpv4;
  hash.reset();
  if (ip !== undefined) {
    sighting.kind = Kind.Ipv4;
    copyIpv4(sighting, packet, bytes);
  } else {
    const arp = packet.last('arp');
    if (arp !== undefined && arp.depth === packet.tunnelDepth) {
      sighting.kind = Kind.Arp;
      sighting.typeOrFlags = arp.opcode;
      sighting.ipSrc = arp.senderIp;
      sighting.ipDst = arp.targetIp;
      // An ARP frame crosses no router: every field of it is the same wherever it is seen.
      hash.add(0xa4f0 + arp.opcode);
      hash.addBytes(bytes, arp.offset, Math.min(arp.offset + 28, bytes.length));
    } else {
      sighting.kind = Kind.Other;
      hash.add(eth.type);
      const start = eth.offset + eth.length;
      hash.addBytes(bytes, start, Math.min(start + PAYLOAD_BYTES_HASHED, bytes.length));
      hash.add(packet.frame.originalLength - start);
    }
  }
  sighting.identity = hash.value();
  return sighting;
}

/**
 * The innermost IPv4 header and its transport. Identity takes only what no hop changes: not the
 * TTL and header checksum (routers), not addresses and ports (NAT), not the TCP/UDP checksum
 * (NAT, and offload leaves it unfilled at some points and not at others). What is left (IP ID,
 * length, fragment, protocol, TCP sequence and flags, ICMP type and sequence, and the first
 * bytes of payload) tells a retransmission from the original, since Linux gives the copy a new
 * IP ID, and two flows whose IP IDs collide apart, since their payloads and sequences differ.
 */
function copyIpv4(sighting: Sighting, packet: Packet, bytes: Uint8Array): void {
  const ip = packet.innerIpv4!;
  sighting.ipSrc = ip.src;
  sighting.ipDst = ip.dst;
  sighting.ipId = ip.id;
  sighting.ttl = ip.ttl;
  sighting.proto = ip.proto;
  sighting.fragment = ip.mf || ip.fragOffset !== 0;
  hash.add(ip.proto);
  hash.add(ip.id);
  hash.add(ip.totalLength);
  hash.add((ip.flags << 13) | ip.fragOffset);

  const transport = packet.transport;
  if (transport === undefined) {
    const start = ip.offset + ip.length;
    hash.addBytes(bytes, start, Math.min(start + PAYLOAD_BYTES_HASHED, bytes.length));
    return;
  }
  let payloadStart: number;
  let payloadEnd: number;
  switch (transport.protocol) {
    case 'tcp':
      sighting.srcPort = transport.srcPort;
      sighting.dstPort = transport.dstPort;
      sighting.typeOrFlags = transport.flags;
      sighting.seq = transport.seq;
      sighting.ack = transport.ack;
      sighting.payloadLength = transport.payloadLength;
      hash.add(transport.seq);
      hash.add(transport.ack);
      hash.add(transport.flags);
      payloadStart = transport.offset + transport.length;
      payloadEnd = transport.payloadEnd;
      break;
    case 'udp':
      sighting.srcPort = transport.srcPort;
      sighting.dstPort = transport.dstPort;
      sighting.payloadLength = transport.payloadLength;
      hash.add(transport.udpLength);
      payloadStart = transport.offset + 8;
      payloadEnd = transport.payloadEnd;
      break;
    case 'icmp':
      sighting.typeOrFlags = transport.type;
      sighting.code = transport.code;
      if (transport.hasIdentifier) {
        // The echo identifier stands in for a port (NAT may rewrite it, so it stays out of the
        // identity); the sequence number does not change.
        sighting.srcPort = transport.ident;
        sighting.seq = transport.seq;
        hash.add(transport.seq);
      }
      hash.add((transport.type << 8) | transport.code);
      payloadStart = transport.offset + 8;
      payloadEnd = transport.payloadEnd;
      // An ICMP error quotes the offending header, which NAT rewrites: only the quoted IP ID and
      // protocol are kept (bytes 4-5 and 9 of the quote).
      if (transport.isError) {
        if (payloadStart + 10 <= payloadEnd) {
          hash.add((bytes[payloadStart + 4]! << 8) | bytes[payloadStart + 5]!);
          hash.add(bytes[payloadStart + 9]!);
        }
        return;
      }
      break;
  }
  hash.addBytes(bytes, payloadStart, Math.min(payloadStart + PAYLOAD_BYTES_HASHED, payloadEnd, bytes.length));
}
