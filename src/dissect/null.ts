import { u32, u32le } from './bytes.js';
import type { DecodeContext } from './context.js';
import { LayerBase, type Fields } from './layer.js';

/**
 * BSD loopback encapsulation: LINKTYPE_NULL (0) and LINKTYPE_LOOP (108).
 *
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                Address family (AF_INET = 2, ...)              |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * NULL stores the family in the byte order of the host that captured (so a capture from a
 * little-endian machine has 02 00 00 00); LOOP always in network order. Like Wireshark, a NULL
 * value whose low 16 bits are zero is taken as byte-swapped. The IPv6 families differ per BSD
 * (24, 28, 30); IPv6 is not decoded yet.
 */
export class NullLayer extends LayerBase {
  get protocol(): 'null' {
    return 'null';
  }

  declare readonly offset: number;
  declare readonly length: number;
  declare readonly depth: number;

  declare readonly family: number;

  constructor(
    offset: number,
    depth: number,
    family: number,
  ) {
    super();
    this.offset = offset;
    this.length = 4;
    this.depth = depth;
    this.quoted = false;
    this.cachedFields = undefined;
    this.family = family;
  }

  protected buildFields(): Fields {
    return { 'null.family': this.family };
  }

  protected buildFieldsJson(): string {
    return `{"null.family":${this.family}}`;
  }
}

const AF_INET = 2;

function decodeFamily(ctx: DecodeContext, offset: number, end: number, networkOrder: boolean): void {
  if (end - offset < 4) return ctx.short('null', 'null', offset, end, 4);
  const b = ctx.bytes;
  let family = networkOrder ? u32(b, offset) : u32le(b, offset);
  if (!networkOrder && (family & 0xffff) === 0) family = u32(b, offset);
  ctx.push(new NullLayer(offset, ctx.depth, family));
  if (family === AF_INET) ctx.tables.ethertype[0x0800]?.(ctx, offset + 4, end);
}

export function decodeNull(ctx: DecodeContext, offset: number, end: number): void {
  decodeFamily(ctx, offset, end, false);
}

export function decodeLoop(ctx: DecodeContext, offset: number, end: number): void {
  decodeFamily(ctx, offset, end, true);
}

/**
 * LINKTYPE_RAW (101): the frame starts with an IP header; the version nibble says which.
 * No layer of its own (Wireshark shows a "raw" pseudo-protocol with no fields).
 */
export function decodeRaw(ctx: DecodeContext, offset: number, end: number): void {
  if (end - offset < 1) return ctx.short('ip', 'raw', offset, end, 1, 'IP header');
  const version = ctx.bytes[offset]! >>> 4;
  if (version === 4) ctx.tables.ethertype[0x0800]?.(ctx, offset, end);
  else if (version !== 6) ctx.fail('ip', 'raw', offset, `IP version ${version} is neither 4 nor 6`, offset + 1);
  // IPv6: not decoded yet; the packet simply has no layers.
}
