import { u16, u32 } from './bytes.js';
import { checksumValid, header20Valid } from './checksum.js';
import type { DecodeContext } from './context.js';
import { formatIpv4 } from './format.js';
import { LayerBase, type ChecksumStatus, type Fields } from './layer.js';
import { ascii, ByteCache, writeAscii, writeBytes, writeNumber } from './json-bytes.js';

/**
 * IPv4 (RFC 791).
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |Version|  IHL  |   DSCP    |ECN|          Total Length         |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |         Identification        |R|D|M|      Fragment Offset    |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |  Time to Live |    Protocol   |         Header Checksum       |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                       Source Address                          |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                    Destination Address                        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                    Options                    |    Padding    |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The total length bounds the payload (an Ethernet trailer after it is ignored). A total length
 * of 0 is what TSO/GSO and BIG TCP (packets over 64 KiB) send-side captures show: like
 * Wireshark and tcpdump, the captured length is used instead.
 * Only the first fragment carries the transport header; later fragments end the decode here.
 * Options are listed (type and length), never fatal: a bad option length ends the list.
 */
export class Ipv4Layer extends LayerBase {
  get protocol(): 'ip' {
    return 'ip';
  }

  declare readonly offset: number;
  declare readonly length: number;
  declare readonly depth: number;

  declare readonly version: number;
  /** Type-of-service byte: DSCP in the upper six bits, ECN in the lower two. */
  declare readonly dsfield: number;
  /** Total length; when the header says 0 (TSO, BIG TCP), the captured length, as Wireshark. */
  declare readonly totalLength: number;
  /** The header's total length was 0 and totalLength was taken from the capture. */
  declare readonly lengthFromCapture: boolean;
  declare readonly id: number;
  /** The three flag bits as Wireshark counts them: 4 reserved, 2 DF, 1 MF. */
  declare readonly flags: number;
  /** Fragment offset in 8-byte units, as on the wire and in Wireshark's ip.frag_offset. */
  declare readonly fragOffset: number;
  declare readonly ttl: number;
  /** IP protocol number of the payload (1 ICMP, 6 TCP, 17 UDP, ...). */
  declare readonly proto: number;
  declare readonly checksum: number;
  declare readonly checksumStatus: ChecksumStatus;
  /** Unsigned 32-bit addresses (formatIpv4 prints them). */
  declare readonly src: number;
  declare readonly dst: number;
  /** Options as [type, length] pairs (length 1 for EOL/NOP); null when the header has none. */
  declare readonly options: readonly (readonly [number, number])[] | null;

  constructor(
    offset: number,
    length: number,
    depth: number,
    version: number,
    dsfield: number,
    totalLength: number,
    lengthFromCapture: boolean,
    id: number,
    flags: number,
    fragOffset: number,
    ttl: number,
    proto: number,
    checksum: number,
    checksumStatus: ChecksumStatus,
    src: number,
    dst: number,
    options: readonly (readonly [number, number])[] | null,
  ) {
    super();
    this.offset = offset;
    this.length = length;
    this.depth = depth;
    this.quoted = false;
    this.cachedFields = undefined;
    this.version = version;
    this.dsfield = dsfield;
    this.totalLength = totalLength;
    this.lengthFromCapture = lengthFromCapture;
    this.id = id;
    this.flags = flags;
    this.fragOffset = fragOffset;
    this.ttl = ttl;
    this.proto = proto;
    this.checksum = checksum;
    this.checksumStatus = checksumStatus;
    this.src = src;
    this.dst = dst;
    this.options = options;
  }

  get dscp(): number {
    return this.dsfield >>> 2;
  }
  get ecn(): number {
    return this.dsfield & 3;
  }
  get df(): boolean {
    return (this.flags & 2) !== 0;
  }
  get mf(): boolean {
    return (this.flags & 1) !== 0;
  }
  /** Fragment offset in bytes. */
  get fragOffsetBytes(): number {
    return this.fragOffset * 8;
  }
  /** "first", "middle" or "last" for a fragment, null for a whole datagram. */
  get fragment(): 'first' | 'middle' | 'last' | null {
    if (this.fragOffset === 0) return this.mf ? 'first' : null;
    return this.mf ? 'middle' : 'last';
  }

  override writeFieldsJson(buf: Uint8Array, pos: number): number {
    if (this.options !== null) return -1; // rare: the string writer lists them
    // Values that repeat from packet to packet are written from cached text (json-bytes.ts).
    pos = writeBytes(buf, pos, J_HEAD.get((this.version << 16) | (this.length << 8) | this.dsfield));
    pos = writeNumber(buf, pos, this.totalLength);
    pos = writeBytes(buf, pos, J_ID);
    pos = writeNumber(buf, pos, this.id);
    pos = writeBytes(buf, pos, J_MIDDLE.get(this.flags + this.fragOffset * 8 + this.ttl * 0x10000 + this.proto * 0x1000000));
    pos = writeNumber(buf, pos, this.checksum);
    pos = writeBytes(buf, pos, statusThenSource(this.checksumStatus));
    pos = writeBytes(buf, pos, J_ADDRESSES.get(this.src));
    pos = writeBytes(buf, pos, J_DST);
    pos = writeBytes(buf, pos, J_ADDRESSES.get(this.dst));
    const fragment = this.fragment;
    if (fragment !== null) {
      pos = writeBytes(buf, pos, J_FRAGMENT);
      pos = writeAscii(buf, pos, fragment);
      buf[pos++] = 0x22;
    }
    buf[pos] = 0x7d;
    return pos + 1;
  }

  protected buildFields(): Fields {
    const f: Record<string, number | string | boolean | number[]> = {
      'ip.version': this.version,
      'ip.hdr_len': this.length,
      'ip.dsfield': this.dsfield,
      'ip.dsfield.dscp': this.dscp,
      'ip.dsfield.ecn': this.ecn,
      'ip.len': this.totalLength,
      'ip.id': this.id,
      'ip.flags': this.flags,
      'ip.flags.rb': (this.flags & 4) !== 0,
      'ip.flags.df': this.df,
      'ip.flags.mf': this.mf,
      'ip.frag_offset': this.fragOffset,
      'ip.ttl': this.ttl,
      'ip.proto': this.proto,
      'ip.checksum': this.checksum,
      'ip.checksum.status': this.checksumStatus,
      'ip.src': formatIpv4(this.src),
      'ip.dst': formatIpv4(this.dst),
    };
    const fragment = this.fragment;
    // Not a Wireshark field: says outright that this is part of a fragmented datagram.
    if (fragment !== null) f['ip.fragment_position'] = fragment;
    if (this.options !== null) {
      f['ip.opt.type'] = this.options.map((o) => o[0]);
      f['ip.opt.len'] = this.options.filter((o) => o[0] > 1).map((o) => o[1]);
    }
    return f;
  }

  protected buildFieldsJson(): string {
    const flags = this.flags;
    let s =
      `{"ip.version":${this.version},"ip.hdr_len":${this.length},"ip.dsfield":${this.dsfield},` +
      `"ip.dsfield.dscp":${this.dsfield >>> 2},"ip.dsfield.ecn":${this.dsfield & 3},"ip.len":${this.totalLength},` +
      `"ip.id":${this.id},"ip.flags":${flags},"ip.flags.rb":${(flags & 4) !== 0},"ip.flags.df":${(flags & 2) !== 0},` +
      `"ip.flags.mf":${(flags & 1) !== 0},"ip.frag_offset":${this.fragOffset},"ip.ttl":${this.ttl},` +
      `"ip.proto":${this.proto},"ip.checksum":${this.checksum},"ip.checksum.status":"${this.checksumStatus}",` +
      `"ip.src":"${formatIpv4(this.src)}","ip.dst":"${formatIpv4(this.dst)}"`;
    const fragment = this.fragment;
    if (fragment !== null) s += `,"ip.fragment_position":"${fragment}"`;
    if (this.options !== null) {
      s += `,"ip.opt.type":[${this.options.map((o) => o[0]).join(',')}]`;
      s += `,"ip.opt.len":[${this.options.filter((o) => o[0] > 1).map((o) => o[1]).join(',')}]`;
    }
    return s + '}';
  }
}

const MIN_HEADER = 20;
const OPT_EOL = 0;
const OPT_NOP = 1;

function parseOptions(b: Uint8Array, start: number, end: number): [number, number][] {
  const options: [number, number][] = [];
  let i = start;
  while (i < end) {
    const type = b[i]!;
    if (type === OPT_EOL || type === OPT_NOP) {
      options.push([type, 1]);
      i += 1;
      if (type === OPT_EOL) break; // the rest is padding
      continue;
    }
    const len = i + 1 < end ? b[i + 1]! : 0;
    options.push([type, len]);
    if (len < 2 || i + len > end) break; // malformed: listed as read, the rest is skipped
    i += len;
  }
  return options;
}

export function decodeIpv4(ctx: DecodeContext, offset: number, end: number): void {
  const b = ctx.bytes;
  const left = end - offset;
  if (left < MIN_HEADER) return ctx.short('ip', 'ipv4', offset, end, MIN_HEADER);
  const vihl = b[offset]!;
  const version = vihl >>> 4;
  if (version !== 4) return ctx.fail('ip', 'ipv4', offset, `version ${version} is not 4`, offset + 1);
  const hdrLen = (vihl & 0x0f) * 4;
  if (hdrLen < MIN_HEADER) return ctx.fail('ip', 'ipv4', offset, `header length ${hdrLen} < ${MIN_HEADER}`, offset + 1);
  if (hdrLen > left) {
    return ctx.fail('ip', 'ipv4', offset, `header length ${hdrLen} > ${left} bytes left`, offset + hdrLen);
  }
  const claimed = u16(b, offset + 2);
  if (claimed !== 0 && claimed < hdrLen) {
    return ctx.fail('ip', 'ipv4', offset, `total length ${claimed} < header length ${hdrLen}`, offset + hdrLen);
  }
  // 0 on the wire: a TSO/GSO or BIG TCP packet captured before segmentation (> 64 KiB).
  const lengthFromCapture = claimed === 0;
  const totalLength = lengthFromCapture ? left : claimed;
  const flagsFrag = u16(b, offset + 6);
  const flags = flagsFrag >>> 13;
  const fragOffset = flagsFrag & 0x1fff;
  const proto = b[offset + 9]!;
  const src = u32(b, offset + 12);
  const dst = u32(b, offset + 16);
  const checksumStatus: ChecksumStatus = !ctx.options.verifyChecksums
    ? 'unverified'
    : (hdrLen === MIN_HEADER ? header20Valid(ctx, offset) : checksumValid(ctx, offset, offset + hdrLen, 0))
      ? 'good'
      : 'bad';
  const options = hdrLen > MIN_HEADER ? parseOptions(b, offset + MIN_HEADER, offset + hdrLen) : null;
  const layer = new Ipv4Layer(
    offset, hdrLen, ctx.depth, version, b[offset + 1]!, totalLength, lengthFromCapture, u16(b, offset + 4), flags,
    fragOffset, b[offset + 8]!, proto, u16(b, offset + 10), checksumStatus, src, dst, options,
  );
  ctx.push(layer);
  if (!ctx.quoted) {
    if (checksumStatus === 'bad') ctx.badHeaderChecksums++;
    ctx.innerIpv4 = layer;
    if (ctx.depth === 0 && ctx.outerIpv4 === undefined) ctx.outerIpv4 = layer;
  }
  // Later fragments carry the middle of a datagram, not a transport header.
  if (fragOffset !== 0) return;
  const payloadEnd = Math.min(end, offset + totalLength);
  ctx.ipSrc = src;
  ctx.ipDst = dst;
  ctx.ipPayloadLength = totalLength - hdrLen;
  ctx.ipFragment = (flags & 1) !== 0;
  ctx.ipLengthFromCapture = lengthFromCapture;
  ctx.tables.ipProtocol[proto]?.(ctx, offset + hdrLen, payloadEnd);
}

// The JSON fields as bytes (writeFieldsJson): fixed parts, and cached text of repeating values.
/** `{"ip.version":…,"ip.len":` by version << 16 | header length << 8 | dsfield. */
const J_HEAD = new ByteCache((key) => {
  const ds = key & 0xff;
  return ascii(
    `{"ip.version":${key >>> 16},"ip.hdr_len":${(key >>> 8) & 0xff},"ip.dsfield":${ds},` +
      `"ip.dsfield.dscp":${ds >>> 2},"ip.dsfield.ecn":${ds & 3},"ip.len":`,
  );
}, 64);
const J_ID = ascii(',"ip.id":');
/** `,"ip.flags":…,"ip.checksum":` by flags + fragment offset · 8 + TTL · 2^16 + protocol · 2^24. */
const J_MIDDLE = new ByteCache((key) => {
  const flags = key & 7;
  return ascii(
    `,"ip.flags":${flags},"ip.flags.rb":${(flags & 4) !== 0},"ip.flags.df":${(flags & 2) !== 0},` +
      `"ip.flags.mf":${(flags & 1) !== 0},"ip.frag_offset":${(key >>> 3) & 0x1fff},"ip.ttl":${(key >>> 16) & 0xff},` +
      `"ip.proto":${Math.floor(key / 0x1000000)},"ip.checksum":`,
  );
}, 256);
const J_STATUS_GOOD = ascii(',"ip.checksum.status":"good","ip.src":');
const J_STATUS_BAD = ascii(',"ip.checksum.status":"bad","ip.src":');
const J_STATUS_UNVERIFIED = ascii(',"ip.checksum.status":"unverified","ip.src":');
const J_STATUS_NOT_PRESENT = ascii(',"ip.checksum.status":"not present","ip.src":');
function statusThenSource(status: ChecksumStatus): Uint8Array {
  return status === 'good' ? J_STATUS_GOOD : status === 'bad' ? J_STATUS_BAD : status === 'unverified' ? J_STATUS_UNVERIFIED : J_STATUS_NOT_PRESENT;
}
/** An address in quotes, by its number. */
const J_ADDRESSES = new ByteCache((ip) => ascii(`"${formatIpv4(ip)}"`), 1024);
const J_DST = ascii(',"ip.dst":');
const J_FRAGMENT = ascii(',"ip.fragment_position":"');
