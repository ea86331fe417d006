import { u16 } from './bytes.js';
import { checksumValid, pseudoHeaderSum } from './checksum.js';
import type { DecodeContext } from './context.js';
import { LayerBase, type ChecksumStatus, type Fields } from './layer.js';
import { ascii, writeBytes, writeNumber } from './json-bytes.js';

/**
 * UDP (RFC 768).
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |          Source Port          |       Destination Port        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |            Length             |           Checksum            |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Checksum 0 means the sender computed none (common for VXLAN: RFC 7348 says SHOULD be zero).
 * Otherwise it is verified over the IPv4 pseudo-header, but only when the whole datagram was
 * captured; a bad one on a host that offloads checksums is normal (see ChecksumStatus).
 *
 * The payload goes to the UDP-port table: the destination port first (VXLAN's source port is a
 * flow hash), then the source port (so a reply, or arkime's 4789 → 4790 sample, still decodes),
 * then the heuristics when enabled.
 */
export class UdpLayer extends LayerBase {
  get protocol(): 'udp' {
    return 'udp';
  }

  declare readonly offset: number;
  declare readonly length: number;
  declare readonly depth: number;

  declare readonly srcPort: number;
  declare readonly dstPort: number;
  /** Length field: header plus payload. */
  declare readonly udpLength: number;
  /** Header plus payload: the length field, or for a BIG TCP datagram (field 0) the IP payload. */
  declare readonly datagramLength: number;
  declare readonly checksum: number;
  declare readonly checksumStatus: ChecksumStatus;
  /** Frame offset where the captured payload ends (≤ offset + udpLength). */
  declare readonly payloadEnd: number;

  constructor(
    offset: number,
    depth: number,
    srcPort: number,
    dstPort: number,
    udpLength: number,
    datagramLength: number,
    checksum: number,
    checksumStatus: ChecksumStatus,
    payloadEnd: number,
  ) {
    super();
    this.offset = offset;
    this.length = HEADER;
    this.depth = depth;
    this.quoted = false;
    this.cachedFields = undefined;
    this.srcPort = srcPort;
    this.dstPort = dstPort;
    this.udpLength = udpLength;
    this.datagramLength = datagramLength;
    this.checksum = checksum;
    this.checksumStatus = checksumStatus;
    this.payloadEnd = payloadEnd;
  }

  /** Payload bytes the datagram has on the wire (some may not be captured). */
  get payloadLength(): number {
    return Math.max(0, this.datagramLength - HEADER);
  }

  override writeFieldsJson(buf: Uint8Array, pos: number): number {
    pos = writeBytes(buf, pos, J_SRCPORT);
    pos = writeNumber(buf, pos, this.srcPort);
    pos = writeBytes(buf, pos, J_DSTPORT);
    pos = writeNumber(buf, pos, this.dstPort);
    pos = writeBytes(buf, pos, J_LENGTH);
    pos = writeNumber(buf, pos, this.udpLength);
    pos = writeBytes(buf, pos, J_CHECKSUM);
    pos = writeNumber(buf, pos, this.checksum);
    const status = this.checksumStatus;
    return writeBytes(
      buf,
      pos,
      status === 'good' ? J_STATUS_GOOD : status === 'bad' ? J_STATUS_BAD : status === 'unverified' ? J_STATUS_UNVERIFIED : J_STATUS_NOT_PRESENT,
    );
  }

  protected buildFields(): Fields {
    return {
      'udp.srcport': this.srcPort,
      'udp.dstport': this.dstPort,
      'udp.length': this.udpLength,
      'udp.checksum': this.checksum,
      'udp.checksum.status': this.checksumStatus,
    };
  }

  protected buildFieldsJson(): string {
    return (
      `{"udp.srcport":${this.srcPort},"udp.dstport":${this.dstPort},"udp.length":${this.udpLength},` +
      `"udp.checksum":${this.checksum},"udp.checksum.status":"${this.checksumStatus}"}`
    );
  }
}

const HEADER = 8;
const IPPROTO_UDP = 17;

export function decodeUdp(ctx: DecodeContext, offset: number, end: number): void {
  const b = ctx.bytes;
  if (end - offset < HEADER) return ctx.short('udp', 'udp', offset, end, HEADER);
  const srcPort = u16(b, offset);
  const dstPort = u16(b, offset + 2);
  const udpLength = u16(b, offset + 4);
  const checksum = u16(b, offset + 6);
  // Length 0 inside an IPv4 packet of length 0 is a BIG TCP / GSO datagram over 64 KiB (VXLAN
  // carrying BIG TCP, Linux 6.3+): its length is the IP payload's, as tcpdump reads it.
  const bigDatagram = udpLength === 0 && ctx.ipLengthFromCapture && !ctx.quoted;
  const length = bigDatagram ? ctx.ipPayloadLength : udpLength;
  const datagramEnd = offset + length;
  const payloadEnd = Math.min(end, datagramEnd);
  let status: ChecksumStatus;
  // A datagram quoted whole in an ICMP error (a VXLAN packet refused with "port unreachable") is
  // verified as Wireshark does; a quote cut short, as most are, is not.
  if (checksum === 0) status = 'not present';
  else if (!ctx.options.verifyChecksums || ctx.ipFragment || datagramEnd > end || length < HEADER || bigDatagram) {
    status = 'unverified';
  } else {
    const pseudo = pseudoHeaderSum(ctx.ipSrc, ctx.ipDst, IPPROTO_UDP, udpLength);
    status = checksumValid(ctx, offset, datagramEnd, pseudo) ? 'good' : 'bad';
  }
  // A datagram longer than its IP packet is decoded as far as the bytes go, as Wireshark does.
  const capturedEnd = Math.max(offset + HEADER, payloadEnd);
  const layer = new UdpLayer(offset, ctx.depth, srcPort, dstPort, udpLength, length, checksum, status, capturedEnd);
  ctx.push(layer);
  if (!ctx.quoted) {
    ctx.lastTransport = layer;
    if (status === 'bad') ctx.badTransportChecksums++;
    if (ctx.depth === 0 && ctx.outerUdp === undefined) ctx.outerUdp = layer;
  }
  if (length < HEADER) {
    return ctx.fail('udp', 'udp', offset, `length ${udpLength} < ${HEADER} header bytes`, offset + HEADER);
  }
  const payload = offset + HEADER;
  if (payloadEnd <= payload) return;
  const tables = ctx.tables;
  const byPort = tables.udpPort[dstPort] ?? tables.udpPort[srcPort];
  if (byPort !== undefined) return byPort(ctx, payload, payloadEnd);
  for (const heuristic of tables.udpHeuristics) {
    if (heuristic(ctx, payload, payloadEnd)) return;
  }
}

// The fixed parts of the JSON fields, as bytes (writeFieldsJson).
const J_SRCPORT = ascii('{"udp.srcport":');
const J_DSTPORT = ascii(',"udp.dstport":');
const J_LENGTH = ascii(',"udp.length":');
const J_CHECKSUM = ascii(',"udp.checksum":');
const J_STATUS_GOOD = ascii(',"udp.checksum.status":"good"}');
const J_STATUS_BAD = ascii(',"udp.checksum.status":"bad"}');
const J_STATUS_UNVERIFIED = ascii(',"udp.checksum.status":"unverified"}');
const J_STATUS_NOT_PRESENT = ascii(',"udp.checksum.status":"not present"}');
