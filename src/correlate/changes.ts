import { formatIpv4, formatMac } from '../dissect/index.js';
import { IdentityHash, smallKey } from './identity-hash.js';
import { Kind, NONE, type SightingField, type SightingStore, UNRECORDED } from './sighting.js';

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

// Absent (NONE) or not recorded (UNRECORDED): null either way.
const mac = (value: number): Value => (value < 0 ? null : formatMac(value));
const ip = (value: number): Value => (value === NONE ? null : formatIpv4(value));
const num = (value: number): Value => (value === NONE ? null : value);

/** A header field that may change between hops, read from a sighting's column. */
interface Field {
  /** The column holding it. */
  column: SightingField;
  /** Its name for a packet of this kind and IP protocol (ports: tcp., udp. or icmp.ident). */
  name(kind: number, proto: number): string | null;
  format(value: number): Value;
  /** Compared as a difference across a flow (the length: +50 bytes whatever the size). */
  byDifference?: boolean;
}

const l4 = (proto: number): string => (proto === 6 ? 'tcp' : proto === 17 ? 'udp' : 'icmp');
const always = (name: string) => (): string => name;
const ipOnly = (name: string) => (kind: number): string | null => (kind === Kind.Ipv4 ? name : null);

/**
 * Every field trace compares, in the order changes are listed: the underlay first (appears at
 * the sending VTEP, goes at the receiving one, has its MACs and TTL changed on a routed
 * underlay), then the packet itself (MACs and TTL where a node routes it, addresses and ports
 * at NAT), then the length.
 */
const FIELDS: readonly Field[] = [
  { column: 'vni', name: always('vxlan.vni'), format: num },
  { column: 'outerEthSrc', name: always('outer.eth.src'), format: mac },
  { column: 'outerEthDst', name: always('outer.eth.dst'), format: mac },
  { column: 'outerVlan', name: always('outer.vlan.id'), format: num },
  { column: 'outerIpSrc', name: always('outer.ip.src'), format: ip },
  { column: 'outerIpDst', name: always('outer.ip.dst'), format: ip },
  { column: 'outerTtl', name: always('outer.ip.ttl'), format: num },
  { column: 'outerSrcPort', name: always('outer.udp.srcport'), format: num },
  { column: 'outerDstPort', name: always('outer.udp.dstport'), format: num },
  { column: 'ethSrc', name: always('eth.src'), format: mac },
  { column: 'ethDst', name: always('eth.dst'), format: mac },
  { column: 'vlan', name: always('vlan.id'), format: num },
  { column: 'ttl', name: ipOnly('ip.ttl'), format: num },
  { column: 'ipSrc', name: ipOnly('ip.src'), format: ip },
  { column: 'ipDst', name: ipOnly('ip.dst'), format: ip },
  { column: 'srcPort', name: (kind, proto) => (kind !== Kind.Ipv4 ? null : l4(proto) === 'icmp' ? 'icmp.ident' : `${l4(proto)}.srcport`), format: num },
  { column: 'dstPort', name: (kind, proto) => (kind !== Kind.Ipv4 || l4(proto) === 'icmp' ? null : `${l4(proto)}.dstport`), format: num },
  { column: 'length', name: always('frame.len'), format: num, byDifference: true },
];

/** How a field's values are written: as a MAC, an IPv4 address or a number; null where absent. */
export type ValueType = 'mac' | 'ip' | 'number';
const VALUE_TYPES: readonly ValueType[] = FIELDS.map((f) => (f.format === mac ? 'mac' : f.format === ip ? 'ip' : 'number'));

/** Fields compared, for writers that go through them by index. */
export const FIELD_COUNT = FIELDS.length;

export function valueTypeOf(field: number): ValueType {
  return VALUE_TYPES[field]!;
}

/** FIELDS[field]'s name for a packet of this kind and IP protocol (null: it has no such field). */
export function fieldNameOf(field: number, kind: number, proto: number): string | null {
  return FIELDS[field]!.name(kind, proto);
}

/**
 * Changes as numbers, without a Change record each: what a writer needs to write them (see
 * report/change-bytes.ts) exactly as changesOf would have made them.
 */
export interface ChangeValues {
  /** Bit i set: FIELDS[i] is one of the changes. */
  readonly mask: number;
  /** The fields `values` holds a from and a to for, in field order: mask and maybe more. */
  readonly valueMask: number;
  readonly values: readonly number[];
  /** The packet's kind and IP protocol, which name its fields (tcp.srcport, icmp.ident). */
  readonly kind: number;
  readonly proto: number;
}

/** The columns of FIELDS, looked up again only when the store has grown (new columns). */
let cached: { store: SightingStore; generation: number; columns: Float64Array[] } | undefined;
function columnsOf(store: SightingStore): Float64Array[] {
  if (cached === undefined || cached.store !== store || cached.generation !== store.generation) {
    cached = { store, generation: store.generation, columns: FIELDS.map((f) => store[f.column]) };
  }
  return cached.columns;
}

/** Bit i set: FIELDS[i]'s column differs between the two sightings, named for the packet or not. */
export function differingColumns(store: SightingStore, before: number, after: number): number {
  return differingIn(columnsOf(store), before, after);
}

function differingIn(columns: readonly Float64Array[], before: number, after: number): number {
  let mask = 0;
  for (let i = 0; i < columns.length; i++) {
    const column = columns[i]!;
    if (column[before] !== column[after]) mask |= 1 << i;
  }
  return (mask & MAC_BITS) === 0 ? mask : mask & ~unrecordedIn(columns, before, after);
}

/** The MAC columns, which a Linux cooked capture may leave UNRECORDED, and their bits. */
const MAC_COLUMNS = FIELDS.flatMap((f, i) => (f.format === mac ? [i] : []));
const MAC_BITS = MAC_COLUMNS.reduce((bits, i) => bits | (1 << i), 0);

/** Bits of the MACs one of the two sightings did not record: a MAC not seen has not changed. */
function unrecordedIn(columns: readonly Float64Array[], before: number, after: number): number {
  let mask = 0;
  for (const i of MAC_COLUMNS) {
    if (columns[i]![before] === UNRECORDED || columns[i]![after] === UNRECORDED) mask |= 1 << i;
  }
  return mask;
}

/** Per kind and IP protocol: bit i set where FIELDS[i] has a name (ports for TCP and UDP, ...). */
const namedMasks = new Map<number, number>();
function namedFields(kind: number, proto: number): number {
  const key = kind * 65536 + proto;
  let mask = namedMasks.get(key);
  if (mask === undefined) {
    mask = 0;
    for (let i = 0; i < FIELDS.length; i++) if (FIELDS[i]!.name(kind, proto) !== null) mask |= 1 << i;
    namedMasks.set(key, mask);
  }
  return mask;
}

/** Bit i set: FIELDS[i] differs between the two sightings and means something for the packet. */
function changedFields(columns: readonly Float64Array[], before: number, after: number, kind: number, proto: number): number {
  return namedOf(differingIn(columns, before, after), kind, proto);
}

/** The bits of a differingColumns mask that are named for a packet of this kind and protocol. */
function namedOf(differing: number, kind: number, proto: number): number {
  return differing === 0 ? 0 : differing & namedFields(kind, proto);
}

/**
 * The changes of the fields in `mask`, named for a packet of this kind and protocol. `values`
 * holds a from and a to for each bit of `valueMask` (a superset of mask), in field order.
 */
function changesOf(mask: number, valueMask: number, values: readonly number[], kind: number, proto: number): Change[] {
  const changes: Change[] = [];
  let at = 0;
  for (let i = 0; i < FIELDS.length; i++) {
    const bit = 1 << i;
    if ((valueMask & bit) === 0) continue;
    at += 2;
    if ((mask & bit) === 0) continue;
    const field = FIELDS[i]!;
    changes.push({ field: field.name(kind, proto)!, from: field.format(values[at - 2]!), to: field.format(values[at - 1]!) });
  }
  return changes;
}

/** The from and to of each field in `mask`, in field order: the layout changesOf reads. */
function valuesOf(columns: readonly Float64Array[], mask: number, before: number, after: number): number[] {
  const values: number[] = [];
  for (let i = 0; i < FIELDS.length; i++) if ((mask & (1 << i)) !== 0) values.push(columns[i]![before]!, columns[i]![after]!);
  // An exact copy: push() leaves room for 17 values, and a flow keeps one of these per hop.
  return values.slice();
}

/** What changed from slot `before` to slot `after` (two sightings of one packet). */
export function changesBetween(store: SightingStore, before: number, after: number): Change[] {
  const columns = columnsOf(store);
  const kind = store.kind[after]!;
  const proto = store.proto[after]!;
  const mask = changedFields(columns, before, after, kind, proto);
  return changesOf(mask, mask, valuesOf(columns, mask, before, after), kind, proto);
}

/**
 * One way of changing: the changes of every packet that changed exactly so, made once. The
 * length is kept apart as a difference (+50 bytes for every packet entering the tunnel, whatever
 * its size); the other fields are kept as numbers, and as Change records only when asked for
 * (a JSON trace writes them from the numbers: see report/change-bytes.ts).
 */
export class ChangePattern implements ChangeValues {
  private made: readonly Change[] | null = null;
  /**
   * The changes as JSON bytes (without the closing bracket), made by trace's JSON writer the
   * first time a packet has this pattern: kept here, a lookup by pattern cost more than the copy.
   */
  json: Uint8Array | null = null;

  constructor(
    /** 52-bit hash of the changed fields, their values and the length difference. */
    readonly id: number,
    /** The packet's kind and IP protocol, which name its fields (tcp.srcport, icmp.ident). */
    readonly kind: number,
    readonly proto: number,
    /** Bit i set: FIELDS[i] changed (the length left out). */
    readonly mask: number,
    /** From and to of each field in mask, in field order. */
    readonly values: readonly number[],
    /** The length's difference (0: unchanged), and the first such packet's lengths. */
    readonly lengthDelta: number,
    readonly lengthFrom: number,
    readonly lengthTo: number,
  ) {}

  get valueMask(): number {
    return this.mask;
  }

  /** The changes other than the length, in field order. */
  get changes(): readonly Change[] {
    return (this.made ??= changesOf(this.mask, this.mask, this.values, this.kind, this.proto));
  }
}

const LENGTH = FIELDS.findIndex((f) => f.column === 'length');
/**
 * Patterns remembered at most; beyond that the cache starts afresh (ids stay the same). Each
 * flow entering or leaving the tunnel has a pattern of its own (its outer source port), so the
 * flows active at one time need a few thousand; 65536 held 100 MB of changes on 70k flows.
 */
export const PATTERNS_KEPT = 4096;

/**
 * Interns the changes between pairs of sightings: most packets of a path change in one of a few
 * ways, and each way is built (field names, formatted MACs) once, not once per packet. Patterns
 * are found by a 52-bit hash of the changed fields and their values; consumers that count them
 * key on `id`, so the cache may be emptied at any time.
 */
export class ChangePatterns {
  private readonly known = new Map<number, ChangePattern>();
  private readonly hash = new IdentityHash();
  /** `differing`: differingColumns(store, before, after), when the caller has it already. */
  of(store: SightingStore, before: number, after: number, differing = differingColumns(store, before, after)): ChangePattern {
    const columns = columnsOf(store);
    const kind = store.kind[after]!;
    const proto = store.proto[after]!;
    const mask = namedOf(differing, kind, proto);
    const lengthFrom = columns[LENGTH]![before]!;
    const lengthTo = columns[LENGTH]![after]!;
    const hash = this.hash;
    hash.reset();
    hash.add(mask & ~(1 << LENGTH));
    hash.add(kind);
    hash.add(proto);
    hash.add(lengthTo - lengthFrom);
    for (let i = 0; i < FIELDS.length; i++) {
      if ((mask & (1 << i)) === 0 || i === LENGTH) continue;
      addValue(hash, columns[i]![before]!);
      addValue(hash, columns[i]![after]!);
    }
    const id = hash.value();
    const key = smallKey(id);
    let pattern = this.known.get(key);
    if (pattern === undefined || pattern.id !== id) {
      if (this.known.size >= PATTERNS_KEPT) this.known.clear();
      const changed = mask & ~(1 << LENGTH);
      pattern = new ChangePattern(id, kind, proto, changed, valuesOf(columns, changed, before, after), lengthTo - lengthFrom, lengthFrom, lengthTo);
      this.known.set(key, pattern);
    }
    return pattern;
  }
}

/**
 * Mixes in a column value (up to 2^53, or NONE) as its two 32-bit halves. `| 0` takes the low
 * half exactly (modulo 2^32), where `%` on a double above 2^31 (a MAC) is a call into fmod.
 */
function addValue(hash: IdentityHash, value: number): void {
  hash.add(value | 0);
  hash.add(Math.floor(value / 4294967296));
}

/** A pattern's changes with the length change of the first packet that had it (field order kept). */
export function patternChanges(pattern: ChangePattern): Change[] {
  if (pattern.lengthDelta === 0) return [...pattern.changes];
  return [...pattern.changes, { field: 'frame.len', from: pattern.lengthFrom, to: pattern.lengthTo }];
}

/**
 * The changes the packets of a flow share over one hop, tracked without building a Change per
 * packet: the first packet's pair of sightings is the reference, and a field stays shared while
 * every packet changes it exactly as the reference did (the length by the same difference).
 * Only the reference's changed fields are kept (a flow has one of these per hop, and there may
 * be a hundred thousand flows): a field the reference left alone varies as soon as it changes.
 *
 * A flow's packets are all of one kind, but a direction's total mixes ARP, TCP, UDP and ICMP.
 * Each packet's changes are named for its own kind (an ARP request has no ports to rewrite), and
 * a field named one way for one kind and another way for another (tcp.srcport, icmp.ident) is
 * never shared between them.
 */
export class SharedChanges {
  private kind = NONE;
  private proto = NONE;
  private referenceMask = 0;
  /** For each bit of referenceMask, in field order: the value before, then after. */
  private reference: readonly number[] = [];
  /** Fields that changed for some packets and not, or not the same way, for others. */
  private varyingMask = 0;
  /** Kinds of packet seen other than the reference's (classKey), and renamedFields against the reference's; null while none. */
  private otherClasses: number[] | null = null;
  private otherRenamed: number[] | null = null;

  /** `differing`: differingColumns(store, before, after), when the caller has it already. */
  add(store: SightingStore, before: number, after: number, differing = differingColumns(store, before, after)): void {
    const columns = columnsOf(store);
    if (this.kind === NONE) {
      this.takeReference(store, columns, before, after, differing);
      return;
    }
    const kind = store.kind[after]! | 0;
    const proto = store.proto[after]! | 0;
    const mask = namedOf(differing, kind, proto);
    if (kind !== this.kind || proto !== this.proto) this.otherKind(kind, proto, mask);
    // Fields the reference left alone and this packet changed: varying.
    this.varyingMask |= mask & ~this.referenceMask;
    let at = 0;
    for (let i = 0; i < FIELDS.length; i++) {
      const bit = 1 << i;
      if ((this.referenceMask & bit) === 0) continue;
      const referenceFrom = this.reference[at]!;
      const referenceTo = this.reference[at + 1]!;
      at += 2;
      if ((this.varyingMask & bit) !== 0) continue;
      const from = columns[i]![before]!;
      const to = columns[i]![after]!;
      const same = FIELDS[i]!.byDifference ? to - from === referenceTo - referenceFrom : from === referenceFrom && to === referenceTo;
      if (!same || (mask & bit) === 0) this.varyingMask |= bit;
    }
  }

  /** The first packet's changes become the reference the others are held to. */
  private takeReference(store: SightingStore, columns: readonly Float64Array[], before: number, after: number, differing: number): void {
    // As small integers: a double read from the store would make each field a boxed number.
    this.kind = store.kind[after]! | 0;
    this.proto = store.proto[after]! | 0;
    this.referenceMask = namedOf(differing, this.kind, this.proto);
    this.reference = valuesOf(columns, this.referenceMask, before, after);
  }

  /** A packet of another kind than the reference: what it changed of a field named otherwise varies. */
  private otherKind(kind: number, proto: number, mask: number): void {
    const key = classKey(kind, proto);
    const classes = (this.otherClasses ??= []);
    const renamed = (this.otherRenamed ??= []);
    let at = classes.indexOf(key);
    if (at < 0) {
      at = classes.push(key) - 1;
      renamed.push(renamedFields(classKey(this.kind, this.proto), key));
    }
    this.varyingMask |= (mask | this.referenceMask) & renamed[at]!;
  }

  /** What every packet had changed, as the first packet had it. */
  get changes(): Change[] {
    return changesOf(this.sharedMask, this.referenceMask, this.reference, this.kind, this.proto);
  }

  /** Bit i set: FIELDS[i] changed for every packet as it did for the first. */
  get sharedMask(): number {
    return this.referenceMask & ~this.varyingMask;
  }

  /** The shared changes as numbers (see ChangeValues), for writing them without Change records. */
  get sharedValues(): ChangeValues {
    return { mask: this.sharedMask, valueMask: this.referenceMask, values: this.reference, kind: this.kind, proto: this.proto };
  }

  /** Names of the fields that changed for some packets only, or differently: each kind's name for them. */
  get varying(): string[] {
    const classes = [classKey(this.kind, this.proto), ...(this.otherClasses ?? [])];
    const names = new Set<string>();
    for (let i = 0; i < FIELDS.length; i++) {
      if ((this.varyingMask & (1 << i)) === 0) continue;
      for (const key of classes) {
        const name = nameInClass(i, key);
        if (name !== null) names.add(name);
      }
    }
    return [...names].sort();
  }
}

/** A kind of packet and its IP protocol as one number (NONE's -1 included: a protocol is below 65535). */
function classKey(kind: number, proto: number): number {
  return kind * 65536 + (proto & 0xffff);
}

/** FIELDS[i]'s name for packets of a class (classKey), or null where they have no such field. */
function nameInClass(i: number, key: number): string | null {
  return FIELDS[i]!.name(Math.floor(key / 65536), key % 65536);
}

/** Bits of the fields that both kinds of packet have, under different names. */
function renamedFields(a: number, b: number): number {
  let mask = 0;
  for (let i = 0; i < FIELDS.length; i++) {
    const nameA = nameInClass(i, a);
    const nameB = nameInClass(i, b);
    if (nameA !== null && nameB !== null && nameA !== nameB) mask |= 1 << i;
  }
  return mask;
}

/**
 * A VLAN tag put on, taken off or rewritten, in words: "+ VLAN 100", "− VLAN 100", "VLAN 100→200";
 * the underlay's with "outer" before it.
 */
export function vlanWords(change: Change): string {
  const what = change.field.startsWith('outer.') ? 'outer VLAN' : 'VLAN';
  if (change.from === null) return `+ ${what} ${change.to}`;
  if (change.to === null) return `\u2212 ${what} ${change.from}`;
  return `${what} ${change.from}\u2192${change.to}`;
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
  // The underlay's VLAN of a packet entering or leaving the tunnel.
  const outerVlan = by.get('outer.vlan.id');
  const onVlan = (id: Change['from'] | undefined) => (id === undefined || id === null ? '' : ` on VLAN ${id}`);
  if (vni !== undefined && vni.from === null) {
    // The source port is the flow hash: over many flows it varies, and is then left out.
    const sport = by.get('outer.udp.srcport');
    const from = `${by.get('outer.ip.src')?.to ?? '?'}${sport === undefined ? '' : `:${sport.to}`}`;
    const to = `${by.get('outer.ip.dst')?.to ?? '?'}:${by.get('outer.udp.dstport')?.to ?? '?'}`;
    words.push(`+ VXLAN vni ${vni.to}, ${from} \u2192 ${to}${onVlan(outerVlan?.to)}${bytes}`);
  } else if (vni !== undefined && vni.to === null) {
    words.push(`\u2212 VXLAN vni ${vni.from}${onVlan(outerVlan?.from)}${bytes}`);
  } else {
    if (vni !== undefined) words.push(`VNI ${vni.from}\u2192${vni.to}`);
    if (outerVlan !== undefined) words.push(vlanWords(outerVlan));
    const outer = ['outer.ip.src', 'outer.ip.dst', 'outer.udp.srcport', 'outer.udp.dstport', 'outer.eth.src', 'outer.eth.dst', 'outer.ip.ttl']
      .map((f) => by.get(f))
      .filter((c): c is Change => c !== undefined);
    for (const c of outer) words.push(`${c.field} ${c.from}\u2192${c.to}`);
    if (bytes !== '') words.push(bytes.slice(2));
  }
  const src = by.get('eth.src');
  const dst = by.get('eth.dst');
  if (src !== undefined && dst !== undefined) words.push(`MAC ${src.from} > ${dst.from} \u2192 ${src.to} > ${dst.to}`);
  else if (src !== undefined) words.push(`MAC src ${src.from} \u2192 ${src.to}`);
  else if (dst !== undefined) words.push(`MAC dst ${dst.from} \u2192 ${dst.to}`);
  const vlan = by.get('vlan.id');
  if (vlan !== undefined) words.push(vlanWords(vlan));
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
