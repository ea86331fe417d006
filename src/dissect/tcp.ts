import { u16, u32 } from './bytes.js';
import { checksumValid, pseudoHeaderSum } from './checksum.js';
import type { DecodeContext } from './context.js';
import { LayerBase, type ChecksumStatus, type Fields } from './layer.js';
import { ascii, ByteCache, writeBytes, writeNumber, writeNumberArray } from './json-bytes.js';

/**
 * TCP (RFC 9293; options from RFC 7323 and RFC 2018).
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |          Source Port          |       Destination Port        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                        Sequence Number                        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                    Acknowledgment Number                      |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |  Data |     |A|C|E|U|A|P|R|S|F|                               |
 *  | Offset| Rsv |E|W|C|R|C|S|S|Y|I|            Window             |
 *  |       |     | |R|E|G|K|H|T|N|N|                               |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |           Checksum            |         Urgent Pointer        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                    Options (0–40 bytes)                       |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Sequence numbers are the absolute values on the wire (Wireshark's tcp.seq_raw / ack_raw):
 * relative numbers need the whole conversation, which is the flow table's business.
 * The common options are decoded into plain numbers (-1 when absent) so that reading them
 * allocates nothing; SACK blocks and unknown options, rarer, go into small arrays.
 * An ICMP error quotes only the first 8 bytes of a segment: then the layer is `partial`, with
 * ports and sequence number only.
 */
export class TcpLayer extends LayerBase {
  get protocol(): 'tcp' {
    return 'tcp';
  }

  declare readonly offset: number;
  declare readonly length: number;
  declare readonly depth: number;

  declare readonly srcPort: number;
  declare readonly dstPort: number;
  declare readonly seq: number;
  declare readonly ack: number;
  /** The 12 flag bits (FIN 0x001 … CWR 0x080, AE 0x100, reserved 0xe00), tcp.flags. */
  declare readonly flags: number;
  declare readonly window: number;
  declare readonly checksum: number;
  declare readonly checksumStatus: ChecksumStatus;
  declare readonly urgentPointer: number;
  declare readonly options: TcpOptions | null;
  /** Bytes of payload the IP length announces. */
  declare readonly payloadLength: number;
  /** Frame offset where the captured payload ends. */
  declare readonly payloadEnd: number;
  /** Only the first bytes were there (quoted in an ICMP error): ports and seq only. */
  declare readonly partial: boolean;

  constructor(
    offset: number,
    length: number,
    depth: number,
    srcPort: number,
    dstPort: number,
    seq: number,
    ack: number,
    flags: number,
    window: number,
    checksum: number,
    checksumStatus: ChecksumStatus,
    urgentPointer: number,
    options: TcpOptions | null,
    payloadLength: number,
    payloadEnd: number,
    partial: boolean,
  ) {
    super();
    this.offset = offset;
    this.length = length;
    this.depth = depth;
    this.quoted = false;
    this.cachedFields = undefined;
    this.srcPort = srcPort;
    this.dstPort = dstPort;
    this.seq = seq;
    this.ack = ack;
    this.flags = flags;
    this.window = window;
    this.checksum = checksum;
    this.checksumStatus = checksumStatus;
    this.urgentPointer = urgentPointer;
    this.options = options;
    this.payloadLength = payloadLength;
    this.payloadEnd = payloadEnd;
    this.partial = partial;
  }

  get fin(): boolean { return (this.flags & 0x001) !== 0; }
  get syn(): boolean { return (this.flags & 0x002) !== 0; }
  get rst(): boolean { return (this.flags & 0x004) !== 0; }
  get psh(): boolean { return (this.flags & 0x008) !== 0; }
  get ackFlag(): boolean { return (this.flags & 0x010) !== 0; }
  get urg(): boolean { return (this.flags & 0x020) !== 0; }
  get ece(): boolean { return (this.flags & 0x040) !== 0; }
  get cwr(): boolean { return (this.flags & 0x080) !== 0; }
  get ae(): boolean { return (this.flags & 0x100) !== 0; }

  /** tcpdump-style flag letters: "S", "S.", "P.", "F.", "R" ... */
  get flagString(): string {
    let s = '';
    if (this.fin) s += 'F';
    if (this.syn) s += 'S';
    if (this.rst) s += 'R';
    if (this.psh) s += 'P';
    if (this.urg) s += 'U';
    if (this.ece) s += 'E';
    if (this.cwr) s += 'W';
    if (this.ackFlag) s += '.';
    return s === '' ? 'none' : s;
  }

  override writeFieldsJson(buf: Uint8Array, pos: number): number {
    const o = this.options;
    if (this.partial || (o !== null && o.sack !== null)) return -1; // rare: the string writer
    pos = writeBytes(buf, pos, J_SRCPORT);
    pos = writeNumber(buf, pos, this.srcPort);
    pos = writeBytes(buf, pos, J_DSTPORT);
    pos = writeNumber(buf, pos, this.dstPort);
    pos = writeBytes(buf, pos, J_SEQ);
    pos = writeNumber(buf, pos, this.seq);
    pos = writeBytes(buf, pos, J_ACK);
    pos = writeNumber(buf, pos, this.ack);
    // Header length and flags repeat: their text (twelve fields) is cached (json-bytes.ts).
    pos = writeBytes(buf, pos, J_FLAGS.get(this.length * 0x1000 + this.flags));
    pos = writeNumber(buf, pos, this.window);
    pos = writeBytes(buf, pos, J_CHECKSUM);
    pos = writeNumber(buf, pos, this.checksum);
    pos = writeBytes(buf, pos, statusThenUrgent(this.checksumStatus));
    pos = writeNumber(buf, pos, this.urgentPointer);
    pos = writeBytes(buf, pos, J_LEN);
    pos = writeNumber(buf, pos, this.payloadLength);
    if (o !== null) {
      pos = writeBytes(buf, pos, J_KINDS);
      pos = writeNumberArray(buf, pos, o.kinds);
      if (o.mss >= 0) {
        pos = writeBytes(buf, pos, J_MSS);
        pos = writeNumber(buf, pos, o.mss);
      }
      if (o.wscale >= 0) {
        pos = writeBytes(buf, pos, J_WSCALE);
        pos = writeNumber(buf, pos, o.wscale);
        pos = writeBytes(buf, pos, J_MULTIPLIER);
        pos = writeNumber(buf, pos, 2 ** Math.min(o.wscale, 14));
      }
      if (o.sackPermitted) pos = writeBytes(buf, pos, J_SACK_PERM);
      if (o.tsval >= 0) {
        pos = writeBytes(buf, pos, J_TSVAL);
        pos = writeNumber(buf, pos, o.tsval);
        pos = writeBytes(buf, pos, J_TSECR);
        pos = writeNumber(buf, pos, o.tsecr);
      }
    }
    buf[pos] = 0x7d;
    return pos + 1;
  }

  protected buildFields(): Fields {
    const f: Record<string, number | string | boolean | number[]> = {
      'tcp.srcport': this.srcPort,
      'tcp.dstport': this.dstPort,
    };
    if (this.partial) {
      if (this.seq >= 0) f['tcp.seq_raw'] = this.seq;
      return f;
    }
    f['tcp.seq_raw'] = this.seq;
    f['tcp.ack_raw'] = this.ack;
    f['tcp.hdr_len'] = this.length;
    f['tcp.flags'] = this.flags;
    f['tcp.flags.res'] = (this.flags & 0xe00) !== 0;
    f['tcp.flags.ae'] = this.ae;
    f['tcp.flags.cwr'] = this.cwr;
    f['tcp.flags.ece'] = this.ece;
    f['tcp.flags.urg'] = this.urg;
    f['tcp.flags.ack'] = this.ackFlag;
    f['tcp.flags.push'] = this.psh;
    f['tcp.flags.reset'] = this.rst;
    f['tcp.flags.syn'] = this.syn;
    f['tcp.flags.fin'] = this.fin;
    f['tcp.window_size_value'] = this.window;
    f['tcp.checksum'] = this.checksum;
    f['tcp.checksum.status'] = this.checksumStatus;
    f['tcp.urgent_pointer'] = this.urgentPointer;
    f['tcp.len'] = this.payloadLength;
    const o = this.options;
    if (o !== null) {
      f['tcp.option_kind'] = o.kinds;
      if (o.mss >= 0) f['tcp.options.mss_val'] = o.mss;
      if (o.wscale >= 0) {
        f['tcp.options.wscale.shift'] = o.wscale;
        f['tcp.options.wscale.multiplier'] = 2 ** Math.min(o.wscale, 14);
      }
      if (o.sackPermitted) f['tcp.options.sack_perm'] = true;
      if (o.sack !== null) {
        f['tcp.options.sack_le'] = o.sack.filter((_, i) => i % 2 === 0);
        f['tcp.options.sack_re'] = o.sack.filter((_, i) => i % 2 === 1);
        f['tcp.options.sack.count'] = o.sack.length / 2;
      }
      if (o.tsval >= 0) {
        f['tcp.options.timestamp.tsval'] = o.tsval;
        f['tcp.options.timestamp.tsecr'] = o.tsecr;
      }
    }
    return f;
  }

  protected buildFieldsJson(): string {
    const ports = `{"tcp.srcport":${this.srcPort},"tcp.dstport":${this.dstPort}`;
    if (this.partial) return this.seq >= 0 ? `${ports},"tcp.seq_raw":${this.seq}}` : `${ports}}`;
    const f = this.flags;
    let s =
      `${ports},"tcp.seq_raw":${this.seq},"tcp.ack_raw":${this.ack},"tcp.hdr_len":${this.length},` +
      `"tcp.flags":${f},"tcp.flags.res":${(f & 0xe00) !== 0},"tcp.flags.ae":${(f & 0x100) !== 0},` +
      `"tcp.flags.cwr":${(f & 0x080) !== 0},"tcp.flags.ece":${(f & 0x040) !== 0},"tcp.flags.urg":${(f & 0x020) !== 0},` +
      `"tcp.flags.ack":${(f & 0x010) !== 0},"tcp.flags.push":${(f & 0x008) !== 0},` +
      `"tcp.flags.reset":${(f & 0x004) !== 0},"tcp.flags.syn":${(f & 0x002) !== 0},"tcp.flags.fin":${(f & 0x001) !== 0},` +
      `"tcp.window_size_value":${this.window},"tcp.checksum":${this.checksum},` +
      `"tcp.checksum.status":"${this.checksumStatus}","tcp.urgent_pointer":${this.urgentPointer},` +
      `"tcp.len":${this.payloadLength}`;
    const o = this.options;
    if (o !== null) {
      s += `,"tcp.option_kind":[${o.kinds.join(',')}]`;
      if (o.mss >= 0) s += `,"tcp.options.mss_val":${o.mss}`;
      if (o.wscale >= 0) s += `,"tcp.options.wscale.shift":${o.wscale},"tcp.options.wscale.multiplier":${2 ** Math.min(o.wscale, 14)}`;
      if (o.sackPermitted) s += ',"tcp.options.sack_perm":true';
      if (o.sack !== null) {
        const le = o.sack.filter((_, i) => i % 2 === 0).join(',');
        const re = o.sack.filter((_, i) => i % 2 === 1).join(',');
        s += `,"tcp.options.sack_le":[${le}],"tcp.options.sack_re":[${re}],"tcp.options.sack.count":${o.sack.length / 2}`;
      }
      if (o.tsval >= 0) s += `,"tcp.options.timestamp.tsval":${o.tsval},"tcp.options.timestamp.tsecr":${o.tsecr}`;
    }
    return s + '}';
  }
}

/** Decoded TCP options; numbers are -1 when the option is absent. */
export interface TcpOptions {
  /** Every option kind in order, NOP (1) and EOL (0) included, as Wireshark lists tcp.option_kind. */
  readonly kinds: number[];
  readonly mss: number;
  readonly wscale: number;
  readonly sackPermitted: boolean;
  /** SACK blocks as left, right, left, right, ... (absolute sequence numbers), or null. */
  readonly sack: number[] | null;
  readonly tsval: number;
  readonly tsecr: number;
  /** Options of other kinds (or with a bad length) as [kind, length]; null when none. */
  readonly unknown: [number, number][] | null;
  /** An option ran past the header: the rest of the options area was skipped. */
  readonly malformed: boolean;
}

const MIN_HEADER = 20;
const IPPROTO_TCP = 6;
const QUOTE_MIN = 8;

function parseOptions(b: Uint8Array, start: number, end: number): TcpOptions {
  const kinds: number[] = [];
  let mss = -1;
  let wscale = -1;
  let sackPermitted = false;
  let sack: number[] | null = null;
  let tsval = -1;
  let tsecr = -1;
  let unknown: [number, number][] | null = null;
  let malformed = false;
  let i = start;
  while (i < end) {
    const kind = b[i]!;
    kinds.push(kind);
    // EOL and NOP are one byte; Wireshark keeps listing the zero padding after an EOL as EOLs.
    if (kind === 0 || kind === 1) {
      i++;
      continue;
    }
    const len = i + 1 < end ? b[i + 1]! : 0;
    if (len < 2 || i + len > end) {
      malformed = true;
      (unknown ??= []).push([kind, len]);
      break;
    }
    if (kind === 2 && len === 4) mss = u16(b, i + 2);
    else if (kind === 3 && len === 3) wscale = b[i + 2]!;
    else if (kind === 4 && len === 2) sackPermitted = true;
    else if (kind === 5 && len >= 10 && (len - 2) % 8 === 0) {
      sack ??= [];
      for (let j = i + 2; j < i + len; j += 4) sack.push(u32(b, j));
    } else if (kind === 8 && len === 10) {
      tsval = u32(b, i + 2);
      tsecr = u32(b, i + 6);
    } else (unknown ??= []).push([kind, len]);
    i += len;
  }
  return { kinds, mss, wscale, sackPermitted, sack, tsval, tsecr, unknown, malformed };
}

export function decodeTcp(ctx: DecodeContext, offset: number, end: number): void {
  const b = ctx.bytes;
  const left = end - offset;
  if (left < MIN_HEADER) {
    if (ctx.quoted && left >= QUOTE_MIN) {
      ctx.push(new TcpLayer(offset, QUOTE_MIN, ctx.depth, u16(b, offset), u16(b, offset + 2), u32(b, offset + 4),
        -1, 0, 0, 0, 'unverified', 0, null, 0, end, true));
      return;
    }
    return ctx.short('tcp', 'tcp', offset, end, MIN_HEADER);
  }
  const hdrLen = (b[offset + 12]! >>> 4) * 4;
  if (hdrLen < MIN_HEADER) return ctx.fail('tcp', 'tcp', offset, `header length ${hdrLen} < ${MIN_HEADER}`, offset + MIN_HEADER);
  if (hdrLen > left) return ctx.fail('tcp', 'tcp', offset, `header length ${hdrLen} > ${left} bytes left`, offset + hdrLen);
  const segmentLength = ctx.ipPayloadLength;
  const segmentEnd = offset + segmentLength;
  let status: ChecksumStatus;
  if (!ctx.options.verifyChecksums || ctx.quoted || ctx.ipFragment || segmentEnd > end || segmentLength < hdrLen) {
    status = 'unverified';
  } else {
    const pseudo = pseudoHeaderSum(ctx.ipSrc, ctx.ipDst, IPPROTO_TCP, segmentLength);
    status = checksumValid(ctx, offset, segmentEnd, pseudo) ? 'good' : 'bad';
  }
  const options = hdrLen > MIN_HEADER ? parseOptions(b, offset + MIN_HEADER, offset + hdrLen) : null;
  const layer = new TcpLayer(
    offset, hdrLen, ctx.depth, u16(b, offset), u16(b, offset + 2), u32(b, offset + 4), u32(b, offset + 8),
    u16(b, offset + 12) & 0x0fff, u16(b, offset + 14), u16(b, offset + 16), status, u16(b, offset + 18), options,
    Math.max(0, segmentLength - hdrLen), end, false,
  );
  ctx.push(layer);
  if (!ctx.quoted) {
    ctx.lastTransport = layer;
    if (status === 'bad') ctx.badTransportChecksums++;
  }
}

// The JSON fields as bytes (writeFieldsJson): fixed parts, and cached text of repeating values.
const J_SRCPORT = ascii('{"tcp.srcport":');
const J_DSTPORT = ascii(',"tcp.dstport":');
const J_SEQ = ascii(',"tcp.seq_raw":');
const J_ACK = ascii(',"tcp.ack_raw":');
/** `,"tcp.hdr_len":…,"tcp.window_size_value":` by header length · 2^12 + flags. */
const J_FLAGS = new ByteCache((key) => {
  const f = key & 0xfff;
  return ascii(
    `,"tcp.hdr_len":${Math.floor(key / 0x1000)},` +
      `"tcp.flags":${f},"tcp.flags.res":${(f & 0xe00) !== 0},"tcp.flags.ae":${(f & 0x100) !== 0},` +
      `"tcp.flags.cwr":${(f & 0x080) !== 0},"tcp.flags.ece":${(f & 0x040) !== 0},"tcp.flags.urg":${(f & 0x020) !== 0},` +
      `"tcp.flags.ack":${(f & 0x010) !== 0},"tcp.flags.push":${(f & 0x008) !== 0},` +
      `"tcp.flags.reset":${(f & 0x004) !== 0},"tcp.flags.syn":${(f & 0x002) !== 0},"tcp.flags.fin":${(f & 0x001) !== 0},` +
      '"tcp.window_size_value":',
  );
}, 256);
const J_CHECKSUM = ascii(',"tcp.checksum":');
const J_STATUS_GOOD = ascii(',"tcp.checksum.status":"good","tcp.urgent_pointer":');
const J_STATUS_BAD = ascii(',"tcp.checksum.status":"bad","tcp.urgent_pointer":');
const J_STATUS_UNVERIFIED = ascii(',"tcp.checksum.status":"unverified","tcp.urgent_pointer":');
const J_STATUS_NOT_PRESENT = ascii(',"tcp.checksum.status":"not present","tcp.urgent_pointer":');
function statusThenUrgent(status: ChecksumStatus): Uint8Array {
  return status === 'good' ? J_STATUS_GOOD : status === 'bad' ? J_STATUS_BAD : status === 'unverified' ? J_STATUS_UNVERIFIED : J_STATUS_NOT_PRESENT;
}
const J_LEN = ascii(',"tcp.len":');
const J_KINDS = ascii(',"tcp.option_kind":');
const J_MSS = ascii(',"tcp.options.mss_val":');
const J_WSCALE = ascii(',"tcp.options.wscale.shift":');
const J_MULTIPLIER = ascii(',"tcp.options.wscale.multiplier":');
const J_SACK_PERM = ascii(',"tcp.options.sack_perm":true');
const J_TSVAL = ascii(',"tcp.options.timestamp.tsval":');
const J_TSECR = ascii(',"tcp.options.timestamp.tsecr":');
