import type { Frame } from '../capture/frame.js';
import { LinkType } from '../capture/linktypes.js';
import { mac48, u16, u24, u32 } from '../dissect/bytes.js';
import { icmpHasIdentifier, isIcmpErrorType } from '../dissect/index.js';
import { IdentityHash } from './identity-hash.js';
import { mixIcmp, mixIpv4Header, mixTcp, mixUdp } from './ipv4-identity.js';
import { Kind, NONE, payloadHashOf, type SightingStore } from './sighting.js';

/*
 * The sightings of common frames, read straight from their bytes into the store's columns.
 *
 * Nearly every frame of an overlay's captures is one of a few shapes: Ethernet, IPv4 without
 * options, TCP, UDP or an ICMP echo, whole, and at eth0 the same inside VXLAN. Dissecting such a
 * frame makes half a dozen layer objects that SightingStore.addAt reads a few numbers from and
 * drops; on two captures of a million frames that was most of the decode worker's time. Here
 * those numbers are read where they lie, checked as the dissector checks them.
 *
 * Anything else is not decoded here (decode() returns false) and goes through the dissector:
 * VLAN tags, ARP, IPv4 options and fragments, ICMP errors, cut or malformed frames, other link
 * types, VXLAN in VXLAN, and UDP that the VXLAN heuristic might claim. A frame decoded here gets
 * exactly the fields addAt would give it; test/correlate/common-frames.test.ts holds the two to
 * each other on every frame of the fixtures and the corpus.
 */

const ETHERTYPE_IPV4 = 0x0800;
const ETH_HEADER = 14;
/** An IPv4 header without options: version 4, header length 5 words. */
const IPV4_PLAIN = 0x45;
const IPV4_HEADER = 20;
/** Word 3 of the IPv4 header without the reserved and DF bits: MF and the fragment offset. */
const FRAGMENT_BITS = 0x3fff;
const UDP_HEADER = 8;
const VXLAN_HEADER = 8;
const TCP_MIN_HEADER = 20;
const ICMP_HEADER = 8;
const IPPROTO_ICMP = 1;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
/** Offsets in a frame that starts with Ethernet and a plain IPv4 header. */
const OUTER_IP = ETH_HEADER;
const OUTER_UDP = OUTER_IP + IPV4_HEADER;

const identity = new IdentityHash();

export class CommonFrames {
  /** 1 for a UDP port decoded as VXLAN (the dissector's port table), by port. */
  private readonly vxlanPort = new Uint8Array(0x10000);

  constructor(
    vxlanPorts: readonly number[],
    /** `--vxlan-heuristic`: VXLAN may be found on any UDP port, which only the dissector decides. */
    private readonly vxlanHeuristic: boolean,
  ) {
    for (const port of vxlanPorts) this.vxlanPort[port] = 1;
  }

  /**
   * Writes the sighting of `frame` into `store`'s slot `at` and returns true when the frame is
   * common. Otherwise returns false, having written some of the slot's fields: the caller then
   * decodes the frame with the dissector (SightingStore.addAt), which writes every field.
   */
  decode(store: SightingStore, at: number, frame: Frame, point: number, timeNs: number): boolean {
    // A cut frame may lack what its headers promise: the dissector says which header, and counts it.
    if (frame.linkType !== LinkType.EN10MB || frame.capturedLength !== frame.originalLength) return false;
    const b = frame.bytes;
    const end = b.length;
    if (end < ETH_HEADER + IPV4_HEADER || u16(b, 12) !== ETHERTYPE_IPV4) return false;
    const ipEnd = plainIpv4End(b, OUTER_IP, end);
    if (ipEnd < 0) return false;
    store.point[at] = point;
    store.frame[at] = frame.index;
    store.timeNs[at] = timeNs;
    store.correctedNs[at] = timeNs;
    store.length[at] = frame.originalLength;
    if (b[OUTER_IP + 9] !== IPPROTO_UDP || (this.vxlanPort[u16(b, OUTER_UDP)]! | this.vxlanPort[u16(b, OUTER_UDP + 2)]!) === 0) {
      writeNoTunnel(store, at);
      return this.decodeInnermost(store, at, b, 0, ipEnd);
    }
    // VXLAN by its port, as the dissector's port table decides (either port, as decodeUdp).
    const udpLength = u16(b, OUTER_UDP + 4);
    if (udpLength < UDP_HEADER) return false;
    const tunnelEnd = Math.min(ipEnd, OUTER_UDP + udpLength);
    const vxlan = OUTER_UDP + UDP_HEADER;
    const inner = vxlan + VXLAN_HEADER;
    if (tunnelEnd - inner < ETH_HEADER + IPV4_HEADER || u16(b, inner + 12) !== ETHERTYPE_IPV4) return false;
    const innerIpEnd = plainIpv4End(b, inner + ETH_HEADER, tunnelEnd);
    if (innerIpEnd < 0) return false;
    // Every flag combination is decoded as VXLAN, as the dissector does: only the VNI is kept.
    store.vni[at] = u24(b, vxlan + 4);
    store.outerEthSrc[at] = mac48(b, 6);
    store.outerEthDst[at] = mac48(b, 0);
    store.outerVlan[at] = NONE;
    store.outerIpSrc[at] = u32(b, OUTER_IP + 12);
    store.outerIpDst[at] = u32(b, OUTER_IP + 16);
    store.outerTtl[at] = b[OUTER_IP + 8]!;
    store.outerSrcPort[at] = u16(b, OUTER_UDP);
    store.outerDstPort[at] = u16(b, OUTER_UDP + 2);
    return this.decodeInnermost(store, at, b, inner, innerIpEnd);
  }

  /**
   * The innermost Ethernet header at `eth`, the plain IPv4 header after it, ending at `ipEnd`,
   * and its transport: the workload's packet, whose fields and identity addIpv4 would take.
   */
  private decodeInnermost(store: SightingStore, at: number, b: Uint8Array, eth: number, ipEnd: number): boolean {
    const ip = eth + ETH_HEADER;
    const transport = ip + IPV4_HEADER;
    const proto = b[ip + 9]!;
    const totalLength = u16(b, ip + 2);
    const id = u16(b, ip + 4);
    identity.reset();
    mixIpv4Header(identity, proto, id, totalLength, u16(b, ip + 6));
    let srcPort = NONE;
    let dstPort = NONE;
    let typeOrFlags = NONE;
    let code = NONE;
    let seq = NONE;
    let ack = NONE;
    let payloadLength = NONE;
    let payloadStart: number;
    switch (proto) {
      case IPPROTO_TCP: {
        if (ipEnd - transport < TCP_MIN_HEADER) return false;
        const headerLength = (b[transport + 12]! >>> 4) * 4;
        if (headerLength < TCP_MIN_HEADER || headerLength > ipEnd - transport) return false;
        srcPort = u16(b, transport);
        dstPort = u16(b, transport + 2);
        seq = u32(b, transport + 4);
        ack = u32(b, transport + 8);
        typeOrFlags = u16(b, transport + 12) & 0x0fff;
        // Not negative: the header lies within the packet (checked above).
        payloadLength = totalLength - IPV4_HEADER - headerLength;
        payloadStart = transport + headerLength;
        mixTcp(identity, seq, ack, typeOrFlags);
        break;
      }
      case IPPROTO_UDP: {
        if (ipEnd - transport < UDP_HEADER) return false;
        const udpLength = u16(b, transport + 4);
        if (udpLength < UDP_HEADER || this.vxlanHeuristic) return false;
        srcPort = u16(b, transport);
        dstPort = u16(b, transport + 2);
        // VXLAN in VXLAN: the dissector decodes the next tunnel.
        if ((this.vxlanPort[srcPort]! | this.vxlanPort[dstPort]!) !== 0) return false;
        payloadLength = udpLength - UDP_HEADER;
        payloadStart = transport + UDP_HEADER;
        mixUdp(identity, udpLength);
        break;
      }
      case IPPROTO_ICMP: {
        if (ipEnd - transport < ICMP_HEADER) return false;
        typeOrFlags = b[transport]!;
        // An error's payload is the packet it quotes, which the dissector decodes.
        if (isIcmpErrorType(typeOrFlags)) return false;
        code = b[transport + 1]!;
        const hasIdentifier = icmpHasIdentifier(typeOrFlags);
        if (hasIdentifier) {
          srcPort = u16(b, transport + 4);
          seq = u16(b, transport + 6);
        }
        payloadStart = transport + ICMP_HEADER;
        mixIcmp(identity, typeOrFlags, code, hasIdentifier, seq);
        break;
      }
      default:
        // A protocol the dissector has no decoder for: the IPv4 payload is all there is.
        payloadStart = transport;
    }
    store.ethSrc[at] = mac48(b, eth + 6);
    store.ethDst[at] = mac48(b, eth);
    store.etherType[at] = ETHERTYPE_IPV4;
    store.vlan[at] = NONE;
    store.kind[at] = Kind.Ipv4;
    store.ipSrc[at] = u32(b, ip + 12);
    store.ipDst[at] = u32(b, ip + 16);
    store.ipId[at] = id;
    store.ttl[at] = b[ip + 8]!;
    store.proto[at] = proto;
    store.fragment[at] = 0;
    store.srcPort[at] = srcPort;
    store.dstPort[at] = dstPort;
    store.typeOrFlags[at] = typeOrFlags;
    store.code[at] = code;
    store.seq[at] = seq;
    store.ack[at] = ack;
    store.payloadLength[at] = payloadLength;
    store.payloadHash[at] = payloadHashOf(b, payloadStart, ipEnd);
    store.identity[at] = identity.value();
    return true;
  }
}

/** The underlay fields of a packet that is not tunnelled. */
function writeNoTunnel(store: SightingStore, at: number): void {
  store.vni[at] = NONE;
  store.outerEthSrc[at] = NONE;
  store.outerEthDst[at] = NONE;
  store.outerVlan[at] = NONE;
  store.outerIpSrc[at] = NONE;
  store.outerIpDst[at] = NONE;
  store.outerTtl[at] = NONE;
  store.outerSrcPort[at] = NONE;
  store.outerDstPort[at] = NONE;
}

/**
 * Where the IPv4 packet at `ip` ends (by its total length), if its header is plain (version 4,
 * no options), the packet lies whole within `end` and is not a fragment; otherwise -1.
 */
function plainIpv4End(b: Uint8Array, ip: number, end: number): number {
  if (end - ip < IPV4_HEADER || b[ip] !== IPV4_PLAIN) return -1;
  const totalLength = u16(b, ip + 2);
  // Total length 0 (TSO, BIG TCP) is taken from the capture by the dissector.
  if (totalLength < IPV4_HEADER || ip + totalLength > end) return -1;
  if ((u16(b, ip + 6) & FRAGMENT_BITS) !== 0) return -1;
  return ip + totalLength;
}
