import { mac48, u16, u32 } from './bytes.js';
import type { DecodeContext } from './context.js';
import { formatMac, hex } from './format.js';
import { LayerBase, type Fields } from './layer.js';

/**
 * Linux "cooked" capture headers, what `tcpdump -i any` writes instead of an Ethernet header.
 *
 * LINKTYPE_LINUX_SLL (113), 16 bytes:          LINKTYPE_LINUX_SLL2 (276), 20 bytes:
 *  +-------------------------------+            +-------------------------------+
 *  | Packet type            (2)    |            | Protocol type          (2)    |
 *  | ARPHRD_ type           (2)    |            | Reserved, MBZ          (2)    |
 *  | Link-layer addr length (2)    |            | Interface index        (4)    |
 *  | Link-layer address     (8)    |            | ARPHRD_ type           (2)    |
 *  | Protocol type          (2)    |            | Packet type (1) | Addr len (1)|
 *  +-------------------------------+            | Link-layer address     (8)    |
 *                                               +-------------------------------+
 *
 * The address is the sender's (for outgoing packets, ours). The protocol type is an EtherType
 * except for a few small Linux values (1: raw 802.3, 4: 802.2 LLC, ...), which vxdump does not
 * decode. Packet type says which way the packet went: 0 to us, 1 broadcast, 2 multicast,
 * 3 to someone else, 4 sent by us.
 */
export class SllLayer extends LayerBase {
  get protocol(): 'sll' {
    return 'sll';
  }

  declare readonly offset: number;
  declare readonly length: number;
  declare readonly depth: number;

  /** 1 for LINUX_SLL, 2 for LINUX_SLL2. */
  declare readonly version: 1 | 2;
  declare readonly packetType: number;
  /** ARPHRD_* hardware type (1 Ethernet, 772 loopback, 778 IP-in-GRE, ...). */
  declare readonly hatype: number;
  declare readonly halen: number;
  /** The 48-bit source MAC when the address is 6 bytes long, otherwise -1. */
  declare readonly srcMac: number;
  /** The address bytes as hex when it is not a 6-byte MAC ("" when absent). */
  declare readonly srcOther: string;
  /** EtherType (or Linux protocol number ≤ 1500) of the payload. */
  declare readonly etype: number;
  /** Interface index (SLL2 only; -1 for SLL). */
  declare readonly ifindex: number;

  constructor(
    offset: number,
    length: number,
    depth: number,
    version: 1 | 2,
    packetType: number,
    hatype: number,
    halen: number,
    srcMac: number,
    srcOther: string,
    etype: number,
    ifindex: number,
  ) {
    super();
    this.offset = offset;
    this.length = length;
    this.depth = depth;
    this.quoted = false;
    this.cachedFields = undefined;
    this.version = version;
    this.packetType = packetType;
    this.hatype = hatype;
    this.halen = halen;
    this.srcMac = srcMac;
    this.srcOther = srcOther;
    this.etype = etype;
    this.ifindex = ifindex;
  }

  protected buildFields(): Fields {
    const f: Record<string, number | string> = {
      'sll.pkttype': this.packetType,
      'sll.hatype': this.hatype,
      'sll.halen': this.halen,
    };
    if (this.srcMac >= 0) f['sll.src.eth'] = formatMac(this.srcMac);
    else if (this.srcOther !== '') f['sll.src.other'] = this.srcOther;
    if (this.etype > MAX_LINUX_PROTOCOL) f['sll.etype'] = this.etype;
    else f['sll.ltype'] = this.etype;
    if (this.ifindex >= 0) f['sll.ifindex'] = this.ifindex;
    return f;
  }

  protected buildFieldsJson(): string {
    let s = `{"sll.pkttype":${this.packetType},"sll.hatype":${this.hatype},"sll.halen":${this.halen}`;
    if (this.srcMac >= 0) s += `,"sll.src.eth":"${formatMac(this.srcMac)}"`;
    else if (this.srcOther !== '') s += `,"sll.src.other":"${this.srcOther}"`;
    s += this.etype > MAX_LINUX_PROTOCOL ? `,"sll.etype":${this.etype}` : `,"sll.ltype":${this.etype}`;
    if (this.ifindex >= 0) s += `,"sll.ifindex":${this.ifindex}`;
    return s + '}';
  }

  get etypeHex(): string {
    return hex(this.etype, 4);
  }
}

const SLL1 = 16;
const SLL2 = 20;
/** Protocol values up to here are Linux's own (ETH_P_802_3 = 1, ETH_P_802_2 = 4, ...). */
const MAX_LINUX_PROTOCOL = 1500;
const ARPHRD_IPGRE = 778; // the protocol field is then a GRE protocol type
const ARPHRD_NETLINK = 824; // the protocol field is a netlink family

function addressParts(b: Uint8Array, at: number, halen: number): [number, string] {
  if (halen === 6) return [mac48(b, at), ''];
  const n = Math.min(halen, 8);
  let text = '';
  for (let i = 0; i < n; i++) text += (i ? ':' : '') + b[at + i]!.toString(16).padStart(2, '0');
  return [-1, text];
}

function next(ctx: DecodeContext, hatype: number, etype: number, offset: number, end: number): void {
  if (etype <= MAX_LINUX_PROTOCOL || hatype === ARPHRD_IPGRE || hatype === ARPHRD_NETLINK) return;
  ctx.tables.ethertype[etype]?.(ctx, offset, end);
}

export function decodeSll(ctx: DecodeContext, offset: number, end: number): void {
  if (end - offset < SLL1) return ctx.short('sll', 'sll', offset, end, SLL1);
  const b = ctx.bytes;
  const hatype = u16(b, offset + 2);
  const halen = u16(b, offset + 4);
  const etype = u16(b, offset + 14);
  const [mac, other] = addressParts(b, offset + 6, halen);
  ctx.push(new SllLayer(offset, SLL1, ctx.depth, 1, u16(b, offset), hatype, halen, mac, other, etype, -1));
  next(ctx, hatype, etype, offset + SLL1, end);
}

export function decodeSll2(ctx: DecodeContext, offset: number, end: number): void {
  if (end - offset < SLL2) return ctx.short('sll', 'sll2', offset, end, SLL2);
  const b = ctx.bytes;
  const etype = u16(b, offset);
  const hatype = u16(b, offset + 8);
  const halen = b[offset + 11]!;
  const [mac, other] = addressParts(b, offset + 12, halen);
  ctx.push(new SllLayer(offset, SLL2, ctx.depth, 2, b[offset + 10]!, hatype, halen, mac, other, etype, u32(b, offset + 4)));
  next(ctx, hatype, etype, offset + SLL2, end);
}
