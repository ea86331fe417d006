import { mac48, u16, u32 } from './bytes.js';
import type { DecodeContext } from './context.js';
import { formatIpv4, formatMac } from './format.js';
import { LayerBase, type Fields } from './layer.js';
import { ascii, writeBytes, writeIpv4String, writeMacString, writeNumber } from './json-bytes.js';

/**
 * ARP (RFC 826) for Ethernet and IPv4, the only combination an overlay carries.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |         Hardware type         |         Protocol type         |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |  HW addr len  | Proto addr len|            Opcode             |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                  Sender hardware address (6)                  |
 *  +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                               | Sender protocol address (4)   |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 *  |                               |                               |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 *  |                  Target hardware address (6)                  |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                  Target protocol address (4)                  |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Other hardware/protocol types keep the first 8 bytes only (addresses stay -1).
 * "Gratuitous" follows Wireshark: sender and target protocol address are equal (an announcement
 * of one's own address, or a duplicate-address probe when the sender address is 0.0.0.0).
 */
export class ArpLayer extends LayerBase {
  get protocol(): 'arp' {
    return 'arp';
  }

  declare readonly offset: number;
  declare readonly length: number;
  declare readonly depth: number;

  declare readonly hwType: number;
  declare readonly protoType: number;
  declare readonly hwSize: number;
  declare readonly protoSize: number;
  /** 1 request, 2 reply (3/4 RARP). */
  declare readonly opcode: number;
  /** Sender MAC, sender IPv4, target MAC, target IPv4; -1 when not Ethernet/IPv4. */
  declare readonly senderMac: number;
  declare readonly senderIp: number;
  declare readonly targetMac: number;
  declare readonly targetIp: number;

  constructor(
    offset: number,
    length: number,
    depth: number,
    hwType: number,
    protoType: number,
    hwSize: number,
    protoSize: number,
    opcode: number,
    senderMac: number,
    senderIp: number,
    targetMac: number,
    targetIp: number,
  ) {
    super();
    this.offset = offset;
    this.length = length;
    this.depth = depth;
    this.quoted = false;
    this.cachedFields = undefined;
    this.hwType = hwType;
    this.protoType = protoType;
    this.hwSize = hwSize;
    this.protoSize = protoSize;
    this.opcode = opcode;
    this.senderMac = senderMac;
    this.senderIp = senderIp;
    this.targetMac = targetMac;
    this.targetIp = targetIp;
  }

  /** Sender and target IPv4 are the same address (Wireshark's arp.isgratuitous). */
  get gratuitous(): boolean {
    return this.senderIp >= 0 && this.senderIp === this.targetIp;
  }

  /** "request", "reply", "gratuitous request", ... for printers. */
  get opcodeName(): string {
    const name = OPCODES[this.opcode] ?? `opcode ${this.opcode}`;
    return this.gratuitous ? `gratuitous ${name}` : name;
  }

  override writeFieldsJson(buf: Uint8Array, pos: number): number {
    pos = writeBytes(buf, pos, J_HW_TYPE);
    pos = writeNumber(buf, pos, this.hwType);
    pos = writeBytes(buf, pos, J_PROTO_TYPE);
    pos = writeNumber(buf, pos, this.protoType);
    pos = writeBytes(buf, pos, J_HW_SIZE);
    pos = writeNumber(buf, pos, this.hwSize);
    pos = writeBytes(buf, pos, J_PROTO_SIZE);
    pos = writeNumber(buf, pos, this.protoSize);
    pos = writeBytes(buf, pos, J_OPCODE);
    pos = writeNumber(buf, pos, this.opcode);
    if (this.senderIp >= 0) {
      if (this.gratuitous) pos = writeBytes(buf, pos, J_GRATUITOUS);
      pos = writeBytes(buf, pos, J_SRC_MAC);
      pos = writeMacString(buf, pos, this.senderMac);
      pos = writeBytes(buf, pos, J_SRC_IP);
      pos = writeIpv4String(buf, pos, this.senderIp);
      pos = writeBytes(buf, pos, J_DST_MAC);
      pos = writeMacString(buf, pos, this.targetMac);
      pos = writeBytes(buf, pos, J_DST_IP);
      pos = writeIpv4String(buf, pos, this.targetIp);
    }
    buf[pos] = 0x7d;
    return pos + 1;
  }

  protected buildFields(): Fields {
    const f: Record<string, number | string | boolean> = {
      'arp.hw.type': this.hwType,
      'arp.proto.type': this.protoType,
      'arp.hw.size': this.hwSize,
      'arp.proto.size': this.protoSize,
      'arp.opcode': this.opcode,
    };
    if (this.senderIp >= 0) {
      // Wireshark adds this field only to gratuitous ARPs; so do we.
      if (this.gratuitous) f['arp.isgratuitous'] = true;
      f['arp.src.hw_mac'] = formatMac(this.senderMac);
      f['arp.src.proto_ipv4'] = formatIpv4(this.senderIp);
      f['arp.dst.hw_mac'] = formatMac(this.targetMac);
      f['arp.dst.proto_ipv4'] = formatIpv4(this.targetIp);
    }
    return f;
  }

  protected buildFieldsJson(): string {
    let s =
      `{"arp.hw.type":${this.hwType},"arp.proto.type":${this.protoType},"arp.hw.size":${this.hwSize},` +
      `"arp.proto.size":${this.protoSize},"arp.opcode":${this.opcode}`;
    if (this.senderIp >= 0) {
      if (this.gratuitous) s += ',"arp.isgratuitous":true';
      s +=
        `,"arp.src.hw_mac":"${formatMac(this.senderMac)}","arp.src.proto_ipv4":"${formatIpv4(this.senderIp)}"` +
        `,"arp.dst.hw_mac":"${formatMac(this.targetMac)}","arp.dst.proto_ipv4":"${formatIpv4(this.targetIp)}"`;
    }
    return s + '}';
  }
}

const OPCODES: Readonly<Record<number, string>> = { 1: 'request', 2: 'reply', 3: 'reverse request', 4: 'reverse reply' };
const FIXED = 8;
const ETHER_IPV4 = 28;

export function decodeArp(ctx: DecodeContext, offset: number, end: number): void {
  if (end - offset < FIXED) return ctx.short('arp', 'arp', offset, end, FIXED);
  const b = ctx.bytes;
  const hwType = u16(b, offset);
  const protoType = u16(b, offset + 2);
  const hwSize = b[offset + 4]!;
  const protoSize = b[offset + 5]!;
  const opcode = u16(b, offset + 6);
  const etherIpv4 = hwSize === 6 && protoSize === 4 && protoType === 0x0800;
  if (!etherIpv4) {
    ctx.push(new ArpLayer(offset, FIXED, ctx.depth, hwType, protoType, hwSize, protoSize, opcode, -1, -1, -1, -1));
    return;
  }
  if (end - offset < ETHER_IPV4) return ctx.short('arp', 'arp', offset, end, ETHER_IPV4, 'Ethernet/IPv4 ARP');
  ctx.push(
    new ArpLayer(
      offset, ETHER_IPV4, ctx.depth, hwType, protoType, hwSize, protoSize, opcode,
      mac48(b, offset + 8), u32(b, offset + 14), mac48(b, offset + 18), u32(b, offset + 24),
    ),
  );
}

// The fixed parts of the JSON fields, as bytes (writeFieldsJson).
const J_HW_TYPE = ascii('{"arp.hw.type":');
const J_PROTO_TYPE = ascii(',"arp.proto.type":');
const J_HW_SIZE = ascii(',"arp.hw.size":');
const J_PROTO_SIZE = ascii(',"arp.proto.size":');
const J_OPCODE = ascii(',"arp.opcode":');
const J_GRATUITOUS = ascii(',"arp.isgratuitous":true');
const J_SRC_MAC = ascii(',"arp.src.hw_mac":');
const J_SRC_IP = ascii(',"arp.src.proto_ipv4":');
const J_DST_MAC = ascii(',"arp.dst.hw_mac":');
const J_DST_IP = ascii(',"arp.dst.proto_ipv4":');
