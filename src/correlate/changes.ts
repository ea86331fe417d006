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

/** A header field that may change between hops, read as a number from a sighting. */
interface Field {
  /** The field's name for a packet of this kind (ports are tcp., udp. or icmp.ident). */
  name(s: Sighting): string | null;
  value(s: Sighting): number;
  format(value: number): Value;
  /** Compared as a difference across a flow (the length: +50 bytes whatever the size). */
  byDifference?: boolean;
}

const l4 = (s: Sighting): string => (s.proto === 6 ? 'tcp' : s.proto === 17 ? 'udp' : 'icmp');
const always = (name: string) => (): string => name;
const ipOnly = (name: string) => (s: Sighting): string | null => (s.kind === Kind.Ipv4 ? name : null);

/**
 * Every field trace compares, in the order changes are listed: the underlay first (appears at
 * the sending VTEP, goes at the receiving one, has its MACs and TTL changed on a routed
 * underlay), then the packet itself (MACs and TTL where a node routes it, addresses and ports
 * at NAT), then the length.
 */
const FIELDS: readonly Field[] = [
  { name: always('vxlan.vni'), value: (s) => s.vni, format: num },
  { name: always('outer.eth.src'), value: (s) => s.outerEthSrc, format: mac },
  { name: always('outer.eth.dst'), value: (s) => s.outerEthDst, format: mac },
  { name: always('outer.ip.src'), value: (s) => s.outerIpSrc, format: ip },
  { name: always('outer.ip.dst'), value: (s) => s.outerIpDst, format: ip },
  { name: always('outer.ip.ttl'), value: (s) => s.outerTtl, format: num },
  { name: always('outer.udp.srcport'), value: (s) => s.outerSrcPort, format: num },
  { name: always('outer.udp.dstport'), value: (s) => s.outerDstPort, format: num },
  { name: always('eth.src'), value: (s) => s.ethSrc, format: mac },
  { name: always('eth.dst'), value: (s) => s.ethDst, format: mac },
  { name: ipOnly('ip.ttl'), value: (s) => s.ttl, format: num },
  { name: ipOnly('ip.src'), value: (s) => s.ipSrc, format: ip },
  { name: ipOnly('ip.dst'), value: (s) => s.ipDst, format: ip },
  { name: (s) => (s.kind !== Kind.Ipv4 ? null : l4(s) === 'icmp' ? 'icmp.ident' : `${l4(s)}.srcport`), value: (s) => s.srcPort, format: num },
  { name: (s) => (s.kind !== Kind.Ipv4 || l4(s) === 'icmp' ? null : `${l4(s)}.dstport`), value: (s) => s.dstPort, format: num },
  { name: always('frame.len'), value: (s) => s.length, format: num, byDifference: true },
];

/** Bit i set: FIELDS[i] differs between the two sightings. */
function changedFields(before: Sighting, after: Sighting): number {
  let mask = 0;
  for (let i = 0; i < FIELDS.length; i++) {
    const field = FIELDS[i]!;
    if (field.value(before) !== field.value(after) && field.name(after) !== null) mask |= 1 << i;
  }
  return mask;
}

function changesOf(before: Sighting, after: Sighting, mask: number): Change[] {
  const changes: Change[] = [];
  for (let i = 0; i < FIELDS.length; i++) {
    if ((mask & (1 << i)) === 0) continue;
    const field = FIELDS[i]!;
    changes.push({ field: field.name(after)!, from: field.format(field.value(before)), to: field.format(field.value(after)) });
  }
  return changes;
}

export function changesBetween(before: Sighting, after: Sighting): Change[] {
  return changesOf(before, after, changedFields(before, after));
}

/**
 * The changes the packets of a flow share over one hop, tracked without building a Change per
 * packet: the first packet's pair of sightings is the reference, and a field stays shared while
 * every packet changes it exactly as the reference did (the length by the same difference).
 */
export class SharedChanges {
  private before: Sighting | null = null;
  private after: Sighting | null = null;
  private referenceMask = 0;
  /** Fields that changed for some packets and not, or not the same way, for others. */
  private varyingMask = 0;

  add(before: Sighting, after: Sighting): void {
    if (this.before === null) {
      this.before = before;
      this.after = after;
      this.referenceMask = changedFields(before, after);
      return;
    }
    const mask = changedFields(before, after);
    const either = mask | this.referenceMask;
    for (let i = 0; i < FIELDS.length; i++) {
      if ((either & (1 << i)) === 0 || (this.varyingMask & (1 << i)) !== 0) continue;
      const field = FIELDS[i]!;
      const same = field.byDifference
        ? field.value(after) - field.value(before) === field.value(this.after!) - field.value(this.before!)
        : field.value(before) === field.value(this.before!) && field.value(after) === field.value(this.after!);
      if (!same || (mask & (1 << i)) === 0 || (this.referenceMask & (1 << i)) === 0) this.varyingMask |= 1 << i;
    }
  }

  /** What every packet had changed, as the first packet had it. */
  get changes(): Change[] {
    if (this.before === null) return [];
    return changesOf(this.before, this.after!, this.referenceMask & ~this.varyingMask);
  }

  /** Names of the fields that changed for some packets only, or differently. */
  get varying(): string[] {
    const names: string[] = [];
    for (let i = 0; i < FIELDS.length; i++) if ((this.varyingMask & (1 << i)) !== 0) names.push(FIELDS[i]!.name(this.after!) ?? FIELDS[i]!.name(this.before!) ?? `field ${i}`);
    return names.sort();
  }
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
