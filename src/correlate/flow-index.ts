import { flowName, isLaterFragment } from './describe.js';
import { KeyTable } from './key-table.js';
import { Kind, NONE, type SightingStore } from './sighting.js';

const ARP_REQUEST = 1;
const ARP_REPLY = 2;

/** How many numbers make a flow's key (see keyOf). */
const KEY_FIELDS = 7;

/**
 * Finds the flow of a packet by its key fields. Every packet looks up its flow, and a key as
 * text (its numbers turned into strings and joined, then hashed whole by the Map) cost more
 * than the rest of the flow table's work per packet; the fields are compared as numbers here,
 * found by a hash of them.
 */
export class FlowIndex<T> {
  /** Per hash of the key, the entries with that hash (almost always one). */
  private readonly byHash = new KeyTable<Entry<T>>();
  /** Scratch: the key of the sighting being looked up. */
  private readonly key = emptyKey();

  /** What was stored for the flow of the sighting in `slot`, if anything. */
  get(store: SightingStore, slot: number): T | undefined {
    const key = this.key;
    keyOf(store, slot, key);
    return this.find(key);
  }

  private find(key: FlowKey): T | undefined {
    for (let entry = this.byHash.get(hashOf(key)); entry !== undefined; entry = entry.next) {
      if (sameKey(entry.key, key)) return entry.value;
    }
    return undefined;
  }

  /**
   * What was stored for the flow the other way: the sighting's addresses and ports swapped (an
   * ICMP echo keeps its identifier); for an ARP reply, the request it answers, and the other way
   * round. Undefined for IPv4 packets without ports or echo identifier, whose replies, if any,
   * are not told apart by them.
   */
  getReverse(store: SightingStore, slot: number): T | undefined {
    const key = this.key;
    keyOf(store, slot, key);
    if (key[0] === Kind.Arp && (key[1] === ARP_REQUEST || key[1] === ARP_REPLY)) {
      key[1] = key[1] === ARP_REQUEST ? ARP_REPLY : ARP_REQUEST;
      swap(key, 2, 4);
      return this.find(key);
    }
    if (key[0] !== Kind.Ipv4 || key[3] === NONE || key[6] !== 0) return undefined;
    swap(key, 2, 4);
    // TCP and UDP: the ports too. An echo's identifier (in the source port's place) stays.
    if (key[5] !== NONE) swap(key, 3, 5);
    return this.find(key);
  }

  /** Stores `value` for the flow of the sighting in `slot`, which has nothing stored yet. */
  add(store: SightingStore, slot: number, value: T): void {
    this.addKey(flowKeyAt(store, slot), value);
  }

  /** Stores `value` under `key` (flowKeyAt), which has nothing stored yet. */
  addKey(key: FlowKey, value: T): void {
    const hash = hashOf(key);
    this.byHash.set(hash, { key, value, next: this.byHash.get(hash) });
  }
}

/** A flow's key: the KEY_FIELDS numbers keyOf fills in. */
export type FlowKey = number[];

/**
 * A key to fill in: an array of doubles from the start (a literal of them), as every key is, so
 * that the code reading keys sees one kind of array. A Float64Array cost 200 bytes per flow.
 */
function emptyKey(): FlowKey {
  return [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5];
}

/** The key of the flow of the sighting in `slot`, as a copy of its own. */
export function flowKeyAt(store: SightingStore, slot: number): FlowKey {
  const key = emptyKey();
  keyOf(store, slot, key);
  return key;
}

/**
 * flowName (describe.ts) of an IPv4 flow from its key alone, which holds every field that name
 * reads; undefined for ARP and other flows, whose names show fields the key lacks (a MAC).
 */
export function ipv4FlowName(key: FlowKey): string | undefined {
  if (key[0] !== Kind.Ipv4) return undefined;
  const laterFragment = key[6] === 1;
  return flowName({
    kind: Kind.Ipv4,
    proto: key[1]!,
    ipSrc: key[2]!,
    srcPort: key[3]!,
    ipDst: key[4]!,
    dstPort: key[5]!,
    // What isLaterFragment looks at: a fragment without ports or ICMP type.
    fragment: laterFragment ? 1 : 0,
    typeOrFlags: laterFragment ? NONE : 0,
    etherType: NONE,
    ethSrc: NONE,
    ethDst: NONE,
  });
}

const firstKey = emptyKey();
const secondKey = emptyKey();

/** Whether the sightings in slots `a` and `b` have the same flow key (no NAT between them). */
export function sameFlowKey(store: SightingStore, a: number, b: number): boolean {
  keyOf(store, a, firstKey);
  keyOf(store, b, secondKey);
  return sameKey(firstKey, secondKey);
}

interface Entry<T> {
  readonly key: FlowKey;
  readonly value: T;
  /** Another flow whose key has the same hash. */
  readonly next: Entry<T> | undefined;
}

/**
 * What groups packets into flows, taken at a packet's first sighting (before any NAT): the
 * inner 5-tuple (ICMP: the echo id as source port), or the ARP opcode, sender and target, or
 * the ethertype and MACs. Unused places are NONE.
 */
function keyOf(store: SightingStore, slot: number, key: FlowKey): void {
  const kind = store.kind[slot]!;
  key[0] = kind;
  key[3] = NONE;
  key[5] = NONE;
  key[6] = 0;
  switch (kind) {
    case Kind.Ipv4:
      key[1] = store.proto[slot]!;
      key[2] = store.ipSrc[slot]!;
      key[3] = store.srcPort[slot]!;
      key[4] = store.ipDst[slot]!;
      key[5] = store.dstPort[slot]!;
      // Non-first fragments carry no ports: a flow of their own.
      key[6] = isLaterFragment(store.fragment[slot]!, store.typeOrFlags[slot]!, store.srcPort[slot]!) ? 1 : 0;
      return;
    case Kind.Arp:
      key[1] = store.typeOrFlags[slot]!;
      key[2] = store.ipSrc[slot]!;
      key[4] = store.ipDst[slot]!;
      return;
    default:
      key[1] = store.etherType[slot]!;
      key[2] = store.ethSrc[slot]!;
      key[4] = store.ethDst[slot]!;
  }
}

function swap(key: FlowKey, i: number, j: number): void {
  const value = key[i]!;
  key[i] = key[j]!;
  key[j] = value;
}

function sameKey(x: FlowKey, y: FlowKey): boolean {
  for (let i = 0; i < KEY_FIELDS; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** A 30-bit hash of the key (a KeyTable's key): FNV-1a over 32-bit halves. */
function hashOf(key: FlowKey): number {
  let hash = 0x811c9dc5 | 0;
  for (let i = 0; i < KEY_FIELDS; i++) {
    const value = key[i]!;
    // A MAC has 48 bits: its high part too (NONE, -1, gives -1 there).
    hash = Math.imul(hash ^ (value | 0), 0x01000193);
    hash = Math.imul(hash ^ Math.floor(value / 4294967296), 0x01000193);
  }
  return (hash ^ (hash >>> 15)) & 0x3fffffff;
}
