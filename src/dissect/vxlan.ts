import { mac48, u16, u24 } from './bytes.js';
import type { DecodeContext } from './context.js';
import { decodeEthernet, isGroupMac } from './ethernet.js';
import { LayerBase, type Fields } from './layer.js';
import { ascii, ByteCache, writeBool, writeBytes, writeNumber } from './json-bytes.js';

/**
 * VXLAN (RFC 7348), with the Group Based Policy extension (draft-smith-vxlan-group-policy).
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |G|R|R|R|I|R|R|R|R|D|R|R|A|R|R|R|        Group Policy ID        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |          VXLAN Network Identifier (VNI)       |   Reserved    |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  followed by the inner Ethernet frame (no FCS).
 *
 * In plain RFC 7348 only I (0x0800 of the 16-bit flags) is defined and everything else is
 * reserved, including the 16 bits GBP uses for the Group Policy ID. As Wireshark does, the
 * flags are the first 16 bits, `vxlan.gbp` is always the next 16 (meaningful when G is set;
 * otherwise they are the RFC's reserved bits), and the bits neither RFC nor GBP define are
 * `vxlan.flags_reserved` (mask 0x77b7). Decoding tolerates non-zero reserved bits and a clear
 * I bit, like Wireshark and the Linux kernel's receive path: the VNI is still reported.
 *
 * The inner frame is decoded with the same dissectors, one encapsulation depth further in.
 */
export class VxlanLayer extends LayerBase {
  get protocol(): 'vxlan' {
    return 'vxlan';
  }

  declare readonly offset: number;
  declare readonly length: number;
  declare readonly depth: number;

  /** The first 16 bits: G 0x8000, I 0x0800, D 0x0040, A 0x0008. */
  declare readonly flags: number;
  /** Group Policy ID (bytes 2–3; reserved, normally 0, when G is clear). */
  declare readonly gbp: number;
  /** 24-bit VXLAN Network Identifier. */
  declare readonly vni: number;
  /** The last byte, reserved. */
  declare readonly reserved8: number;
  /** Decoded because the payload looked like VXLAN, not because of its port. */
  declare readonly heuristic: boolean;

  constructor(
    offset: number,
    depth: number,
    flags: number,
    gbp: number,
    vni: number,
    reserved8: number,
    heuristic: boolean,
  ) {
    super();
    this.offset = offset;
    this.length = HEADER;
    this.depth = depth;
    this.quoted = false;
    this.cachedFields = undefined;
    this.flags = flags;
    this.gbp = gbp;
    this.vni = vni;
    this.reserved8 = reserved8;
    this.heuristic = heuristic;
  }

  get flagG(): boolean {
    return (this.flags & FLAG_G) !== 0;
  }
  get flagI(): boolean {
    return (this.flags & FLAG_I) !== 0;
  }
  get flagD(): boolean {
    return (this.flags & FLAG_D) !== 0;
  }
  get flagA(): boolean {
    return (this.flags & FLAG_A) !== 0;
  }
  /** Flag bits defined by neither RFC 7348 nor GBP. */
  get flagsReserved(): number {
    return this.flags & RESERVED_MASK;
  }

  override writeFieldsJson(buf: Uint8Array, pos: number): number {
    // The common header (no GBP, reserved byte 0) is all flags and VNI: its text is cached.
    if (this.gbp === 0 && this.reserved8 === 0) {
      return writeBytes(buf, pos, J_COMMON.get(this.vni + this.flags * 0x1000000 + (this.heuristic ? 0x10000000000 : 0)));
    }
    return writeVxlanFields(buf, pos, this.flags, this.gbp, this.vni, this.reserved8, this.heuristic);
  }

  protected buildFields(): Fields {
    const f: Record<string, number | boolean> = {
      'vxlan.flags': this.flags,
      'vxlan.flag_g': this.flagG,
      'vxlan.flag_i': this.flagI,
      'vxlan.flag_d': this.flagD,
      'vxlan.flag_a': this.flagA,
      'vxlan.flags_reserved': this.flagsReserved,
      'vxlan.gbp': this.gbp,
      'vxlan.vni': this.vni,
      'vxlan.reserved8': this.reserved8,
    };
    // Not a Wireshark field: the decision was ours, not the port table's.
    if (this.heuristic) f['vxlan.heuristic'] = true;
    return f;
  }

  protected buildFieldsJson(): string {
    const f = this.flags;
    return (
      `{"vxlan.flags":${f},"vxlan.flag_g":${(f & FLAG_G) !== 0},"vxlan.flag_i":${(f & FLAG_I) !== 0},` +
      `"vxlan.flag_d":${(f & FLAG_D) !== 0},"vxlan.flag_a":${(f & FLAG_A) !== 0},` +
      `"vxlan.flags_reserved":${f & RESERVED_MASK},"vxlan.gbp":${this.gbp},"vxlan.vni":${this.vni},` +
      `"vxlan.reserved8":${this.reserved8}${this.heuristic ? ',"vxlan.heuristic":true' : ''}}`
    );
  }
}

const HEADER = 8;
const FLAG_G = 0x8000;
const FLAG_I = 0x0800;
const FLAG_D = 0x0040;
const FLAG_A = 0x0008;
const RESERVED_MASK = 0x77b7;

function decode(ctx: DecodeContext, offset: number, end: number, heuristic: boolean): void {
  if (end - offset < HEADER) return ctx.short('vxlan', 'vxlan', offset, end, HEADER);
  const b = ctx.bytes;
  const layer = new VxlanLayer(offset, ctx.depth, u16(b, offset), u16(b, offset + 2), u24(b, offset + 4), b[offset + 7]!, heuristic);
  ctx.push(layer);
  if (!ctx.quoted) {
    ctx.vxlan ??= layer;
    ctx.vxlanCount++;
  }
  const limit = ctx.options.maxVxlanDepth;
  if (ctx.depth >= limit) {
    return ctx.fail('vxlan', 'vxlan', offset, `inner frame not decoded: more than ${limit} nested VXLAN headers`, offset + HEADER);
  }
  const inner = offset + HEADER;
  // The inner frame has its own addresses; the pseudo-header state of the outer datagram is
  // neither needed nor touched again after this point.
  ctx.depth++;
  decodeEthernet(ctx, inner, end);
  ctx.depth--;
}

/** The UDP-port table entry (4789, 8472, or whatever the user configured). */
export function decodeVxlan(ctx: DecodeContext, offset: number, end: number): void {
  decode(ctx, offset, end, false);
}

/** EtherTypes a plausible inner frame carries: IPv4, ARP, IPv6, 802.1Q, 802.1ad. */
const PLAUSIBLE_INNER_TYPES = new Set([0x0800, 0x0806, 0x86dd, 0x8100, 0x88a8]);

/**
 * `--vxlan-heuristic`: VXLAN on a port no table names. Accepted only when the header is exactly
 * what RFC 7348 senders write (flags byte 0x08, every reserved byte zero) and an inner Ethernet
 * header follows with a unicast source MAC and an EtherType an overlay carries, so that random
 * UDP payloads (DNS, QUIC, ...) are very unlikely to pass.
 */
export function vxlanHeuristic(ctx: DecodeContext, offset: number, end: number): boolean {
  if (end - offset < HEADER + 14) return false;
  const b = ctx.bytes;
  if (b[offset] !== 0x08 || b[offset + 1] !== 0 || b[offset + 2] !== 0 || b[offset + 3] !== 0 || b[offset + 7] !== 0) {
    return false;
  }
  const inner = offset + HEADER;
  if (isGroupMac(mac48(b, inner + 6))) return false;
  if (!PLAUSIBLE_INNER_TYPES.has(u16(b, inner + 12))) return false;
  decode(ctx, offset, end, true);
  return true;
}

// The JSON fields as bytes (writeFieldsJson): fixed parts, and cached text of common headers.
const J_FLAGS = ascii('{"vxlan.flags":');
const J_FLAG_G = ascii(',"vxlan.flag_g":');
const J_FLAG_I = ascii(',"vxlan.flag_i":');
const J_FLAG_D = ascii(',"vxlan.flag_d":');
const J_FLAG_A = ascii(',"vxlan.flag_a":');
const J_RESERVED = ascii(',"vxlan.flags_reserved":');
const J_GBP = ascii(',"vxlan.gbp":');
const J_VNI = ascii(',"vxlan.vni":');
const J_RESERVED8 = ascii(',"vxlan.reserved8":');
const J_HEURISTIC = ascii(',"vxlan.heuristic":true');
/** The fields of a header without GBP or reserved bits, by VNI + flags · 2^24 + heuristic · 2^40. */
const J_COMMON = new ByteCache((key) => {
  const bytes = new Uint8Array(512);
  const end = writeVxlanFields(bytes, 0, Math.floor(key / 0x1000000) % 0x10000, 0, key % 0x1000000, 0, key >= 0x10000000000);
  return bytes.slice(0, end);
}, 256);

function writeVxlanFields(buf: Uint8Array, pos: number, f: number, gbp: number, vni: number, reserved8: number, heuristic: boolean): number {
  pos = writeBytes(buf, pos, J_FLAGS);
  pos = writeNumber(buf, pos, f);
  pos = writeBytes(buf, pos, J_FLAG_G);
  pos = writeBool(buf, pos, (f & FLAG_G) !== 0);
  pos = writeBytes(buf, pos, J_FLAG_I);
  pos = writeBool(buf, pos, (f & FLAG_I) !== 0);
  pos = writeBytes(buf, pos, J_FLAG_D);
  pos = writeBool(buf, pos, (f & FLAG_D) !== 0);
  pos = writeBytes(buf, pos, J_FLAG_A);
  pos = writeBool(buf, pos, (f & FLAG_A) !== 0);
  pos = writeBytes(buf, pos, J_RESERVED);
  pos = writeNumber(buf, pos, f & RESERVED_MASK);
  pos = writeBytes(buf, pos, J_GBP);
  pos = writeNumber(buf, pos, gbp);
  pos = writeBytes(buf, pos, J_VNI);
  pos = writeNumber(buf, pos, vni);
  pos = writeBytes(buf, pos, J_RESERVED8);
  pos = writeNumber(buf, pos, reserved8);
  if (heuristic) pos = writeBytes(buf, pos, J_HEURISTIC);
  buf[pos] = 0x7d;
  return pos + 1;
}
