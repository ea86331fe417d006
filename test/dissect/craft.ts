/**
 * Builders for crafted packets: what a kernel lab does not produce (GBP, QinQ, IP options,
 * fragments, ICMP errors, bad checksums, nested VXLAN). Checksums are computed unless a test
 * asks for a specific (bad) value.
 */
import type { Frame } from '../../src/capture/frame.js';
import { LinkType } from '../../src/capture/linktypes.js';
import { parseIpv4, parseMac } from '../../src/dissect/index.js';

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function be16(n: number): number[] {
  return [(n >>> 8) & 0xff, n & 0xff];
}
function be32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}
function mac(text: string): number[] {
  const n = parseMac(text);
  if (n === undefined) throw new Error(`bad MAC ${text}`);
  return [Math.floor(n / 2 ** 40) & 0xff, Math.floor(n / 2 ** 32) & 0xff, ...be32(n >>> 0)];
}
function ip(text: string): number[] {
  const n = parseIpv4(text);
  if (n === undefined) throw new Error(`bad IPv4 ${text}`);
  return be32(n);
}

/** RFC 1071 checksum of the bytes (with the checksum field already zero) plus an initial sum. */
export function internetChecksum(bytes: Uint8Array, initial = 0): number {
  let sum = initial;
  for (let i = 0; i + 1 < bytes.length; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (bytes.length % 2 === 1) sum += bytes[bytes.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export const MAC_A = '02:00:00:00:00:0a';
export const MAC_B = '02:00:00:00:00:0b';

export function eth(type: number, payload: Uint8Array, dst = MAC_B, src = MAC_A): Uint8Array {
  return concat(new Uint8Array([...mac(dst), ...mac(src), ...be16(type)]), payload);
}

/** A VLAN tag (TCI + the next EtherType), to put after an EtherType 0x8100 / 0x88a8. */
export function tag(id: number, nextType: number, payload: Uint8Array, priority = 0, dei = false): Uint8Array {
  return concat(new Uint8Array([...be16((priority << 13) | (dei ? 0x1000 : 0) | id), ...be16(nextType)]), payload);
}

export interface Ipv4Spec {
  src?: string;
  dst?: string;
  proto: number;
  ttl?: number;
  id?: number;
  tos?: number;
  df?: boolean;
  mf?: boolean;
  /** In 8-byte units. */
  fragOffset?: number;
  options?: number[];
  /** Overrides the computed total length. */
  totalLength?: number;
  checksum?: number;
}

export function ipv4(spec: Ipv4Spec, payload: Uint8Array): Uint8Array {
  const options = spec.options ?? [];
  if (options.length % 4 !== 0) throw new Error('IPv4 options must be padded to 4 bytes');
  const hdrLen = 20 + options.length;
  const total = spec.totalLength ?? hdrLen + payload.length;
  const flags = (spec.df ? 0x4000 : 0) | (spec.mf ? 0x2000 : 0) | (spec.fragOffset ?? 0);
  const h = new Uint8Array([
    0x40 | (hdrLen / 4), spec.tos ?? 0, ...be16(total), ...be16(spec.id ?? 0x1234), ...be16(flags),
    spec.ttl ?? 64, spec.proto, 0, 0, ...ip(spec.src ?? '10.0.0.1'), ...ip(spec.dst ?? '10.0.0.2'), ...options,
  ]);
  const cs = spec.checksum ?? internetChecksum(h);
  h[10] = cs >>> 8;
  h[11] = cs & 0xff;
  return concat(h, payload);
}

function pseudo(src: string, dst: string, proto: number, length: number): number {
  const s = parseIpv4(src)!;
  const d = parseIpv4(dst)!;
  return (s >>> 16) + (s & 0xffff) + (d >>> 16) + (d & 0xffff) + proto + length;
}

export interface UdpSpec {
  sport: number;
  dport: number;
  /** 'auto' (default): computed over the pseudo-header of src/dst; 'none': 0; or a value. */
  checksum?: 'auto' | 'none' | number;
  src?: string;
  dst?: string;
  length?: number;
}

export function udp(spec: UdpSpec, payload: Uint8Array): Uint8Array {
  const length = spec.length ?? 8 + payload.length;
  const d = concat(new Uint8Array([...be16(spec.sport), ...be16(spec.dport), ...be16(length), 0, 0]), payload);
  const mode = spec.checksum ?? 'auto';
  let cs = 0;
  if (mode === 'auto') {
    cs = internetChecksum(d, pseudo(spec.src ?? '10.0.0.1', spec.dst ?? '10.0.0.2', 17, d.length));
    if (cs === 0) cs = 0xffff;
  } else if (typeof mode === 'number') cs = mode;
  d[6] = cs >>> 8;
  d[7] = cs & 0xff;
  return d;
}

export interface TcpSpec {
  sport: number;
  dport: number;
  seq?: number;
  ack?: number;
  /** 12-bit flags word: 0x002 SYN, 0x010 ACK, ... */
  flags?: number;
  window?: number;
  urgent?: number;
  options?: number[];
  checksum?: 'auto' | number;
  src?: string;
  dst?: string;
}

export function tcp(spec: TcpSpec, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const options = spec.options ?? [];
  if (options.length % 4 !== 0) throw new Error('TCP options must be padded to 4 bytes');
  const hdrLen = 20 + options.length;
  const flags = spec.flags ?? 0x002;
  const d = concat(
    new Uint8Array([
      ...be16(spec.sport), ...be16(spec.dport), ...be32(spec.seq ?? 1000), ...be32(spec.ack ?? 0),
      ((hdrLen / 4) << 4) | ((flags >>> 8) & 0x0f), flags & 0xff, ...be16(spec.window ?? 64240), 0, 0,
      ...be16(spec.urgent ?? 0), ...options,
    ]),
    payload,
  );
  const cs = spec.checksum === undefined || spec.checksum === 'auto'
    ? internetChecksum(d, pseudo(spec.src ?? '10.0.0.1', spec.dst ?? '10.0.0.2', 6, d.length))
    : spec.checksum;
  d[16] = cs >>> 8;
  d[17] = cs & 0xff;
  return d;
}

/** An ICMP message: type, code, the 4-byte rest-of-header word, then a body. */
export function icmp(type: number, code: number, rest: number, body: Uint8Array = new Uint8Array(0), checksum?: number): Uint8Array {
  const d = concat(new Uint8Array([type, code, 0, 0, ...be32(rest)]), body);
  const cs = checksum ?? internetChecksum(d);
  d[2] = cs >>> 8;
  d[3] = cs & 0xff;
  return d;
}

export function vxlan(vni: number, inner: Uint8Array, flags = 0x0800, gbp = 0, reserved8 = 0): Uint8Array {
  return concat(new Uint8Array([...be16(flags), ...be16(gbp), (vni >>> 16) & 0xff, (vni >>> 8) & 0xff, vni & 0xff, reserved8]), inner);
}

export interface ArpSpec {
  opcode: number;
  senderMac?: string;
  senderIp: string;
  targetMac?: string;
  targetIp: string;
}

export function arp(spec: ArpSpec): Uint8Array {
  return new Uint8Array([
    0, 1, 0x08, 0x00, 6, 4, ...be16(spec.opcode), ...mac(spec.senderMac ?? MAC_A), ...ip(spec.senderIp),
    ...mac(spec.targetMac ?? '00:00:00:00:00:00'), ...ip(spec.targetIp),
  ]);
}

export function sll(etype: number, payload: Uint8Array, packetType = 4, address = MAC_A): Uint8Array {
  return concat(new Uint8Array([...be16(packetType), 0, 1, 0, 6, ...mac(address), 0, 0, ...be16(etype)]), payload);
}

export function sll2(etype: number, payload: Uint8Array, ifindex = 3, packetType = 0, address = MAC_A): Uint8Array {
  return concat(
    new Uint8Array([...be16(etype), 0, 0, ...be32(ifindex), 0, 1, packetType, 6, ...mac(address), 0, 0]),
    payload,
  );
}

/** A BSD loopback header; NULL writes the family in the capturing host's order (here little-endian). */
export function nullHeader(family: number, payload: Uint8Array, networkOrder = false): Uint8Array {
  const f = be32(family);
  return concat(new Uint8Array(networkOrder ? f : f.reverse()), payload);
}

/** A Frame around bytes, as a capture reader would deliver it. */
export function frame(bytes: Uint8Array, linkType: number = LinkType.EN10MB, originalLength = bytes.length, index = 1): Frame {
  return {
    index,
    timestampNs: 1_700_000_000_123_456_789n,
    capturedLength: bytes.length,
    originalLength,
    linkType,
    interfaceId: 0,
    bytes,
  };
}

/** The static point-to-point experiment's first echo request at node1 eth0 (VNI 11, port 4789). */
export function primerEchoRequest(): Uint8Array {
  const inner = eth(
    0x0800,
    ipv4(
      { src: '10.244.1.2', dst: '10.244.2.2', proto: 1, ttl: 63, id: 0xbeef, df: true },
      icmp(8, 0, (29004 << 16) | 1, new Uint8Array(56).map((_, i) => i)),
    ),
    '62:1a:00:00:00:02',
    '56:84:00:00:00:01',
  );
  const payload = vxlan(11, inner);
  return eth(
    0x0800,
    ipv4(
      { src: '10.211.55.122', dst: '10.211.55.123', proto: 17, id: 7, df: false },
      udp({ sport: 34366, dport: 4789, checksum: "none" }, payload),
    ),
    '00:1c:42:00:00:02',
    '00:1c:42:00:00:01',
  );
}

/** IPv4 carrying UDP, the UDP checksum computed over this IPv4 pseudo-header. */
export function ipv4Udp(ipSpec: Omit<Ipv4Spec, 'proto'>, udpSpec: UdpSpec, payload: Uint8Array): Uint8Array {
  const src = ipSpec.src ?? '10.0.0.1';
  const dst = ipSpec.dst ?? '10.0.0.2';
  return ipv4({ ...ipSpec, src, dst, proto: 17 }, udp({ src, dst, ...udpSpec }, payload));
}

/** IPv4 carrying TCP, the TCP checksum computed over this IPv4 pseudo-header. */
export function ipv4Tcp(ipSpec: Omit<Ipv4Spec, 'proto'>, tcpSpec: TcpSpec, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const src = ipSpec.src ?? '10.0.0.1';
  const dst = ipSpec.dst ?? '10.0.0.2';
  return ipv4({ ...ipSpec, src, dst, proto: 6 }, tcp({ src, dst, ...tcpSpec }, payload));
}

/** A VXLAN packet on the underlay: outer Ethernet/IPv4/UDP to `port`, then the inner frame. */
export function vxlanPacket(vni: number, inner: Uint8Array, options: { port?: number; sport?: number; flags?: number; gbp?: number; checksum?: 'auto' | 'none' } = {}): Uint8Array {
  return eth(
    0x0800,
    ipv4Udp(
      { src: '192.168.1.1', dst: '192.168.1.2', id: 99 },
      { sport: options.sport ?? 50000, dport: options.port ?? 4789, checksum: options.checksum ?? 'none' },
      vxlan(vni, inner, options.flags ?? 0x0800, options.gbp ?? 0),
    ),
    '00:00:5e:00:53:02',
    '00:00:5e:00:53:01',
  );
}
