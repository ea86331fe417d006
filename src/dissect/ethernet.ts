import { mac48, u16 } from './bytes.js';
import type { DecodeContext } from './context.js';
import { formatMac, hex } from './format.js';
import { LayerBase, type Fields } from './layer.js';
import { ascii, writeBytes, writeMacString, writeNumber } from './json-bytes.js';

/**
 * Ethernet II (IEEE 802.3 with an EtherType; gopacket layers.Ethernet).
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                    Destination MAC address                    |
 *  +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                               |                               |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 *  |                      Source MAC address                       |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |      EtherType / Length       |  Payload ...
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * A type field of 1500 or less is an 802.3 length (LLC follows, which vxdump does not decode);
 * Wireshark then names it eth.len instead of eth.type. The frame check sequence is normally not
 * captured, and a padded short frame's trailer is ignored because IPv4 says where its data ends.
 */
export class EthLayer extends LayerBase {
  get protocol(): 'eth' {
    return 'eth';
  }

  declare readonly offset: number;
  declare readonly length: number;
  declare readonly depth: number;

  /** 48-bit destination MAC (formatMac prints it). */
  declare readonly dst: number;
  declare readonly src: number;
  /** EtherType, or the 802.3 length when ≤ 1500. */
  declare readonly type: number;

  constructor(
    offset: number,
    depth: number,
    dst: number,
    src: number,
    type: number,
  ) {
    super();
    this.offset = offset;
    this.length = ETH_HEADER;
    this.depth = depth;
    this.quoted = false;
    this.cachedFields = undefined;
    this.dst = dst;
    this.src = src;
    this.type = type;
  }

  override writeFieldsJson(buf: Uint8Array, pos: number): number {
    pos = writeBytes(buf, pos, J_DST);
    pos = writeMacString(buf, pos, this.dst);
    pos = writeBytes(buf, pos, J_SRC);
    pos = writeMacString(buf, pos, this.src);
    pos = writeBytes(buf, pos, this.type <= MAX_8023_LENGTH ? J_LEN : J_TYPE);
    pos = writeNumber(buf, pos, this.type);
    buf[pos] = 0x7d;
    return pos + 1;
  }

  protected buildFields(): Fields {
    return this.type <= MAX_8023_LENGTH
      ? { 'eth.dst': formatMac(this.dst), 'eth.src': formatMac(this.src), 'eth.len': this.type }
      : { 'eth.dst': formatMac(this.dst), 'eth.src': formatMac(this.src), 'eth.type': this.type };
  }

  protected buildFieldsJson(): string {
    const type = this.type <= MAX_8023_LENGTH ? `"eth.len":${this.type}` : `"eth.type":${this.type}`;
    return `{"eth.dst":"${formatMac(this.dst)}","eth.src":"${formatMac(this.src)}",${type}}`;
  }

  /** "0x0800" style, for printers. */
  get typeHex(): string {
    return hex(this.type, 4);
  }
}

const ETH_HEADER = 14;
const MAX_8023_LENGTH = 1500;

export function decodeEthernet(ctx: DecodeContext, offset: number, end: number): void {
  if (end - offset < ETH_HEADER) return ctx.short('eth', 'eth', offset, end, ETH_HEADER);
  const b = ctx.bytes;
  const type = u16(b, offset + 12);
  const layer = new EthLayer(offset, ctx.depth, mac48(b, offset), mac48(b, offset + 6), type);
  ctx.push(layer);
  if (!ctx.quoted) ctx.innerEth = layer;
  if (type > MAX_8023_LENGTH) ctx.tables.ethertype[type]?.(ctx, offset + ETH_HEADER, end);
}

/** True for a group (multicast/broadcast) MAC: the I/G bit, the lowest bit of the first byte. */
export function isGroupMac(mac: number): boolean {
  return Math.floor(mac / 0x100_0000_0000) % 2 === 1;
}

// The fixed parts of the JSON fields, as bytes (writeFieldsJson).
const J_DST = ascii('{"eth.dst":');
const J_SRC = ascii(',"eth.src":');
const J_LEN = ascii(',"eth.len":');
const J_TYPE = ascii(',"eth.type":');
