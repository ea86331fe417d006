import { formatIpv4, formatMac } from '../dissect/index.js';
import { Kind, NONE, type Sighting } from './sighting.js';

/**
 * What changed between two sightings of one packet, field by field, with Wireshark's field
 * names where there is one. Fields of the underlay are prefixed `outer.`; the rest are the
 * innermost headers, the ones the workload sent. A value is null where the header is absent
 * (`vxlan.vni` null → 11: encapsulation added).
 */
export interface Change {
  field: string;
  from: string | number | null;
  to: string | number | null;
}

type Value = string | number | null;

const mac = (value: number): Value => (value === NONE ? null : formatMac(value));
const ip = (value: number): Value => (value === NONE ? null : formatIpv4(value));
const num = (value: number): Value => (value === NONE ? null : value);

function push(changes: Change[], field: string, from: Value, to: Value): void {
  if (from !== to) changes.push({ field, from, to });
}

export function changesBetween(before: Sighting, after: Sighting): Change[] {
  const changes: Change[] = [];
  // The underlay: appears at the sending VTEP, goes at the receiving one, and on a routed
  // underlay has its MACs and TTL changed on the way.
  if (before.vni !== after.vni) push(changes, 'vxlan.vni', num(before.vni), num(after.vni));
  if (before.outerEthSrc !== after.outerEthSrc) push(changes, 'outer.eth.src', mac(before.outerEthSrc), mac(after.outerEthSrc));
  if (before.outerEthDst !== after.outerEthDst) push(changes, 'outer.eth.dst', mac(before.outerEthDst), mac(after.outerEthDst));
  if (before.outerIpSrc !== after.outerIpSrc) push(changes, 'outer.ip.src', ip(before.outerIpSrc), ip(after.outerIpSrc));
  if (before.outerIpDst !== after.outerIpDst) push(changes, 'outer.ip.dst', ip(before.outerIpDst), ip(after.outerIpDst));
  if (before.outerTtl !== after.outerTtl) push(changes, 'outer.ip.ttl', num(before.outerTtl), num(after.outerTtl));
  if (before.outerSrcPort !== after.outerSrcPort) push(changes, 'outer.udp.srcport', num(before.outerSrcPort), num(after.outerSrcPort));
  if (before.outerDstPort !== after.outerDstPort) push(changes, 'outer.udp.dstport', num(before.outerDstPort), num(after.outerDstPort));

  // The packet itself: MACs where a node routes it, TTL likewise, addresses and ports at NAT.
  if (before.ethSrc !== after.ethSrc) push(changes, 'eth.src', mac(before.ethSrc), mac(after.ethSrc));
  if (before.ethDst !== after.ethDst) push(changes, 'eth.dst', mac(before.ethDst), mac(after.ethDst));
  if (after.kind === Kind.Ipv4) {
    if (before.ttl !== after.ttl) push(changes, 'ip.ttl', num(before.ttl), num(after.ttl));
    if (before.ipSrc !== after.ipSrc) push(changes, 'ip.src', ip(before.ipSrc), ip(after.ipSrc));
    if (before.ipDst !== after.ipDst) push(changes, 'ip.dst', ip(before.ipDst), ip(after.ipDst));
    const l4 = after.proto === 6 ? 'tcp' : after.proto === 17 ? 'udp' : 'icmp';
    if (l4 === 'icmp') {
      if (before.srcPort !== after.srcPort) push(changes, 'icmp.ident', num(before.srcPort), num(after.srcPort));
    } else {
      if (before.srcPort !== after.srcPort) push(changes, `${l4}.srcport`, num(before.srcPort), num(after.srcPort));
      if (before.dstPort !== after.dstPort) push(changes, `${l4}.dstport`, num(before.dstPort), num(after.dstPort));
    }
  }
  if (before.length !== after.length) push(changes, 'frame.len', before.length, after.length);
  return changes;
}

/**
 * A key under which changes that are "the same" for a flow compare equal: the length as a
 * difference (+50 bytes for every packet of a flow, whatever its size), everything else as it is.
 */
export function changeKey(change: Change): string {
  if (change.field === 'frame.len') return `frame.len ${signed((change.to as number) - (change.from as number))}`;
  return `${change.field} ${change.from}>${change.to}`;
}

export function signed(n: number): string {
  return n > 0 ? `+${n}` : n < 0 ? `\u2212${-n}` : '0';
}

/**
 * The changes of one hop in words, as the report prints them:
 *   "+ VXLAN vni 11, 10.211.55.122:34366 → 10.211.55.123:4789, +50 bytes"
 *   "MAC 02:00:0a:f4:01:02 > 02:00:0a:f4:01:01 → 02:00:0a:f4:01:00 > 02:00:0a:f4:02:00, TTL 64→63 (routed)"
 * `varying` fields changed for some packets of the flow and not the same way for all.
 */
export function describeChanges(changes: readonly Change[], varying: readonly string[] = []): string {
  const by = new Map(changes.map((c) => [c.field, c]));
  const words: string[] = [];
  const vni = by.get('vxlan.vni');
  const length = by.get('frame.len');
  const bytes = length === undefined ? '' : `, ${signed((length.to as number) - (length.from as number))} bytes`;
  if (vni !== undefined && vni.from === null) {
    const from = `${by.get('outer.ip.src')?.to ?? '?'}:${by.get('outer.udp.srcport')?.to ?? '?'}`;
    const to = `${by.get('outer.ip.dst')?.to ?? '?'}:${by.get('outer.udp.dstport')?.to ?? '?'}`;
    words.push(`+ VXLAN vni ${vni.to}, ${from} \u2192 ${to}${bytes}`);
  } else if (vni !== undefined && vni.to === null) {
    words.push(`\u2212 VXLAN vni ${vni.from}${bytes}`);
  } else {
    if (vni !== undefined) words.push(`VNI ${vni.from}\u2192${vni.to}`);
    const outer = ['outer.ip.src', 'outer.ip.dst', 'outer.udp.srcport', 'outer.udp.dstport', 'outer.eth.src', 'outer.eth.dst', 'outer.ip.ttl']
      .map((f) => by.get(f))
      .filter((c): c is Change => c !== undefined);
    for (const c of outer) words.push(`${c.field} ${c.from}\u2192${c.to}`);
    if (bytes !== '') words.push(bytes.slice(2));
  }
  const src = by.get('eth.src');
  const dst = by.get('eth.dst');
  if (src !== undefined || dst !== undefined) {
    const was = `${src?.from ?? '='} > ${dst?.from ?? '='}`;
    const now = `${src?.to ?? '='} > ${dst?.to ?? '='}`;
    words.push(`MAC ${was} \u2192 ${now}`);
  }
  const ttl = by.get('ip.ttl');
  if (ttl !== undefined) {
    const routed = typeof ttl.from === 'number' && typeof ttl.to === 'number' && ttl.to === ttl.from - 1;
    words.push(`TTL ${ttl.from}\u2192${ttl.to}${routed ? ' (routed)' : ''}`);
  }
  const nat = ['ip.src', 'ip.dst', 'tcp.srcport', 'tcp.dstport', 'udp.srcport', 'udp.dstport', 'icmp.ident']
    .map((f) => by.get(f))
    .filter((c): c is Change => c !== undefined);
  if (nat.length > 0) words.push(`NAT: ${nat.map((c) => `${c.field} ${c.from}\u2192${c.to}`).join(', ')}`);
  if (varying.length > 0) words.push(`varies: ${varying.join(', ')}`);
  return words.length === 0 ? 'unchanged' : words.join(', ');
}
