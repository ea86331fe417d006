import { u16, u32 } from './bytes.js';
import { checksumValid } from './checksum.js';
import type { DecodeContext } from './context.js';
import { formatIpv4 } from './format.js';
import { decodeIpv4 } from './ipv4.js';
import { LayerBase, type ChecksumStatus, type Fields } from './layer.js';
import { ascii, writeAscii, writeBytes, writeIpv4String, writeNumber } from './json-bytes.js';

/**
 * ICMP for IPv4 (RFC 792, RFC 1191 for the next-hop MTU).
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |     Type      |     Code      |           Checksum            |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |          Identifier           |        Sequence Number        |  echo (8), reply (0)
 *  |            unused             |         Next-Hop MTU          |  unreachable (3)
 *  |                  Gateway Internet Address                     |  redirect (5)
 *  |                            unused                             |  time exceeded (11)
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |   error messages: the offending IPv4 header + at least 8 bytes of its payload ...
 *
 * The quoted datagram of an error is decoded with the same dissectors, its layers marked
 * `quoted`: "fragmentation needed" for a VXLAN packet quotes the outer headers that were too
 * big, which is exactly what a user debugging the overlay MTU needs to see.
 */
export class IcmpLayer extends LayerBase {
  get protocol(): 'icmp' {
    return 'icmp';
  }

  declare readonly offset: number;
  declare readonly length: number;
  declare readonly depth: number;

  declare readonly type: number;
  declare readonly code: number;
  declare readonly checksum: number;
  declare readonly checksumStatus: ChecksumStatus;
  /** The second 32-bit word: its meaning depends on the type (see the accessors). */
  declare readonly rest: number;
  /** Frame offset where the captured ICMP message ends. */
  declare readonly payloadEnd: number;

  constructor(
    offset: number,
    length: number,
    depth: number,
    type: number,
    code: number,
    checksum: number,
    checksumStatus: ChecksumStatus,
    rest: number,
    payloadEnd: number,
  ) {
    super();
    this.offset = offset;
    this.length = length;
    this.depth = depth;
    this.quoted = false;
    this.cachedFields = undefined;
    this.type = type;
    this.code = code;
    this.checksum = checksum;
    this.checksumStatus = checksumStatus;
    this.rest = rest;
    this.payloadEnd = payloadEnd;
  }

  /** Echo, timestamp and information messages carry an identifier and a sequence number. */
  get hasIdentifier(): boolean {
    return icmpHasIdentifier(this.type);
  }
  get ident(): number {
    return this.rest >>> 16;
  }
  get seq(): number {
    return this.rest & 0xffff;
  }
  /** Next-hop MTU of "fragmentation needed" (type 3 code 4), else -1. */
  get mtu(): number {
    return isFragmentationNeeded(this.type, this.code) ? this.rest & 0xffff : -1;
  }
  /** Gateway of a redirect (type 5), else -1. */
  get gateway(): number {
    return this.type === REDIRECT ? this.rest : -1;
  }
  /** Error messages quote the datagram that caused them. */
  get isError(): boolean {
    return isIcmpErrorType(this.type);
  }
  /** "echo request", "destination unreachable (fragmentation needed)", ... for printers. */
  get typeName(): string {
    return icmpTypeName(this.type, this.code);
  }

  override writeFieldsJson(buf: Uint8Array, pos: number): number {
    pos = writeBytes(buf, pos, J_TYPE);
    pos = writeNumber(buf, pos, this.type);
    pos = writeBytes(buf, pos, J_CODE);
    pos = writeNumber(buf, pos, this.code);
    pos = writeBytes(buf, pos, J_CHECKSUM);
    pos = writeNumber(buf, pos, this.checksum);
    pos = writeBytes(buf, pos, J_STATUS);
    pos = writeAscii(buf, pos, this.checksumStatus);
    buf[pos++] = 0x22;
    if (this.hasIdentifier) {
      pos = writeBytes(buf, pos, J_IDENT);
      pos = writeNumber(buf, pos, this.ident);
      pos = writeBytes(buf, pos, J_SEQ);
      pos = writeNumber(buf, pos, this.seq);
    }
    const mtu = this.mtu;
    if (mtu >= 0) {
      pos = writeBytes(buf, pos, J_MTU);
      pos = writeNumber(buf, pos, mtu);
    }
    const gateway = this.gateway;
    if (gateway >= 0) {
      pos = writeBytes(buf, pos, J_GATEWAY);
      pos = writeIpv4String(buf, pos, gateway);
    }
    buf[pos] = 0x7d;
    return pos + 1;
  }

  protected buildFields(): Fields {
    const f: Record<string, number | string> = {
      'icmp.type': this.type,
      'icmp.code': this.code,
      'icmp.checksum': this.checksum,
      'icmp.checksum.status': this.checksumStatus,
    };
    if (this.hasIdentifier) {
      f['icmp.ident'] = this.ident;
      f['icmp.seq'] = this.seq;
    }
    if (this.mtu >= 0) f['icmp.mtu'] = this.mtu;
    if (this.gateway >= 0) f['icmp.redir_gw'] = formatIpv4(this.gateway);
    return f;
  }

  protected buildFieldsJson(): string {
    let s =
      `{"icmp.type":${this.type},"icmp.code":${this.code},"icmp.checksum":${this.checksum},` +
      `"icmp.checksum.status":"${this.checksumStatus}"`;
    if (this.hasIdentifier) s += `,"icmp.ident":${this.ident},"icmp.seq":${this.seq}`;
    if (this.mtu >= 0) s += `,"icmp.mtu":${this.mtu}`;
    if (this.gateway >= 0) s += `,"icmp.redir_gw":"${formatIpv4(this.gateway)}"`;
    return s + '}';
  }
}

const HEADER = 8;
const DEST_UNREACHABLE = 3;
const FRAG_NEEDED = 4;
const REDIRECT = 5;
const TIME_EXCEEDED = 11;
const IDENTIFIED = new Set([0, 8, 13, 14, 15, 16, 17, 18]);
/** Unreachable, source quench, redirect, time exceeded, parameter problem. */
const ERRORS = new Set([3, 4, 5, 11, 12]);
const TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'echo reply', 3: 'destination unreachable', 4: 'source quench', 5: 'redirect', 8: 'echo request',
  11: 'time exceeded', 12: 'parameter problem', 13: 'timestamp request', 14: 'timestamp reply',
};
const UNREACHABLE_CODES: Readonly<Record<number, string>> = {
  0: 'net unreachable', 1: 'host unreachable', 2: 'protocol unreachable', 3: 'port unreachable',
  4: 'fragmentation needed', 5: 'source route failed', 9: 'net prohibited', 10: 'host prohibited',
  13: 'administratively prohibited',
};

/** "Fragmentation needed" (RFC 1191), whose header carries the next-hop MTU in bytes 6-7. */
export function isFragmentationNeeded(type: number, code: number): boolean {
  return type === DEST_UNREACHABLE && code === FRAG_NEEDED;
}

/** Whether messages of this type (echo, timestamp, information, address mask) carry an identifier and a sequence number. */
export function icmpHasIdentifier(type: number): boolean {
  return IDENTIFIED.has(type);
}

/** Whether messages of this type are errors, which quote the datagram that caused them. */
export function isIcmpErrorType(type: number): boolean {
  return ERRORS.has(type);
}

/** "echo request", "destination unreachable (fragmentation needed)", "time exceeded (TTL)". */
export function icmpTypeName(type: number, code: number): string {
  const name = TYPE_NAMES[type] ?? `type ${type}`;
  if (type === DEST_UNREACHABLE) return `${name} (${UNREACHABLE_CODES[code] ?? `code ${code}`})`;
  if (type === TIME_EXCEEDED) return `${name} (${code === 0 ? 'TTL' : code === 1 ? 'reassembly' : `code ${code}`})`;
  return code === 0 ? name : `${name} code ${code}`;
}

export function decodeIcmp(ctx: DecodeContext, offset: number, end: number): void {
  const b = ctx.bytes;
  if (end - offset < HEADER) return ctx.short('icmp', 'icmp', offset, end, HEADER);
  const type = b[offset]!;
  const messageEnd = offset + ctx.ipPayloadLength;
  let status: ChecksumStatus;
  if (!ctx.options.verifyChecksums || ctx.quoted || ctx.ipFragment || messageEnd > end) status = 'unverified';
  else status = checksumValid(ctx, offset, messageEnd, 0) ? 'good' : 'bad';
  const layer = new IcmpLayer(offset, HEADER, ctx.depth, type, b[offset + 1]!, u16(b, offset + 2), status, u32(b, offset + 4), end);
  ctx.push(layer);
  if (!ctx.quoted) {
    ctx.lastTransport = layer;
    if (status === 'bad') ctx.badHeaderChecksums++;
  }
  // One level of quoting only: an error about an error is not sent (RFC 1122 3.2.2), and a
  // crafted one must not recurse.
  if (ERRORS.has(type) && !ctx.quoted && end - offset > HEADER) {
    ctx.quoted = true;
    decodeIpv4(ctx, offset + HEADER, end);
    ctx.quoted = false;
  }
}

// The fixed parts of the JSON fields, as bytes (writeFieldsJson).
const J_TYPE = ascii('{"icmp.type":');
const J_CODE = ascii(',"icmp.code":');
const J_CHECKSUM = ascii(',"icmp.checksum":');
const J_STATUS = ascii(',"icmp.checksum.status":"');
const J_IDENT = ascii(',"icmp.ident":');
const J_SEQ = ascii(',"icmp.seq":');
const J_MTU = ascii(',"icmp.mtu":');
const J_GATEWAY = ascii(',"icmp.redir_gw":');
