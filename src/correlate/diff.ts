import { type Change, type ChangePattern, ChangePatterns, patternChanges, signed, vlanWords } from './changes.js';
import { packetNameAt } from './describe.js';
import type { DecidedJourney, Flow } from './flows.js';
import type { IcmpErrorNote } from './icmp-errors.js';
import { LatencySample } from './latency.js';
import { largerThanAllCrossed } from './losses.js';
import { PacketNotes } from './packet-notes.js';
import { NONE, type SightingStore } from './sighting.js';

/**
 * `vxdump diff A B`: two capture points, A before B on the path, compared packet by packet.
 * The packets come from the trace machinery with the path fixed to [A, B]; this class sorts
 * them into matched (per direction), only in A and only in B, and counts the header changes.
 */

/** Packets listed per category at most; counts go on beyond. */
export const LISTED = 1000;
/** Packets kept per flow and way of changing, to list the odd ones from. */
const KEPT_PER_PATTERN = 50;

export interface DiffPacket {
  id: number;
  flow: number;
  flowName: string;
  name: string;
  frame: number;
}

/** One kind of change over A→B (or B→A) and how many matched packets had it. */
export interface ChangeCount {
  /** How the change is counted: "ip.ttl −1", "eth.src 02:..:02 → 02:..:00", "frame.len +50". */
  key: string;
  field: string;
  from: Change['from'];
  to: Change['to'];
  packets: number;
}

export class DirectionStats {
  matched = 0;
  readonly latency = new LatencySample(65536);
  /** The largest matched packet, in bytes where it was seen first. */
  largestLength = 0;
  /** Packets per way of changing, by pattern id. */
  private readonly perPattern = new Map<number, { pattern: ChangePattern; packets: number }>();

  add(deltaNs: number, pattern: ChangePattern, length: number): void {
    this.matched += 1;
    if (length > this.largestLength) this.largestLength = length;
    this.latency.add(deltaNs);
    const known = this.perPattern.get(pattern.id);
    if (known !== undefined) known.packets += 1;
    else this.perPattern.set(pattern.id, { pattern, packets: 1 });
  }

  get changes(): ChangeCount[] {
    const counts = new Map<string, ChangeCount>();
    for (const { pattern, packets } of this.perPattern.values()) {
      for (const { key, change } of countedChanges(patternChanges(pattern))) {
        const known = counts.get(key);
        if (known !== undefined) known.packets += packets;
        else counts.set(key, { key, field: change.field, from: change.from, to: change.to, packets });
      }
    }
    return [...counts.values()];
  }

  /** Matched packets that had a change of this field (for --fail-on-change). */
  changedField(field: string): number {
    let n = 0;
    for (const { pattern, packets } of this.perPattern.values()) if (patternChanges(pattern).some((c) => c.field === field)) n += packets;
    return n;
  }
}

/** A packet whose changes differ from what most packets of its flow had over the same hop. */
export interface OddPacket extends DiffPacket {
  changes: string[];
  usual: string[];
}

/** One way a flow's packets changed: how many did, and the first KEPT_PER_PATTERN of them. */
interface Way {
  readonly pattern: ChangePattern;
  count: number;
  /** The kept packets' notes, chained from the first to the last. */
  readonly firstNote: number;
  lastNote: number;
}

/** Ways beyond which a flow finds them through a Map rather than by a look along its list. */
const WAYS_LISTED = 8;

/** The ways of changing one flow's packets had, in the order first seen (most flows have one). */
class FlowWays {
  readonly list: Way[] = [];
  private byId: Map<number, Way> | null = null;

  constructor(readonly flow: Flow) {}

  find(patternId: number): Way | undefined {
    if (this.byId !== null) return this.byId.get(patternId);
    for (const way of this.list) if (way.pattern.id === patternId) return way;
    return undefined;
  }

  push(way: Way): void {
    this.list.push(way);
    if (this.byId !== null) this.byId.set(way.pattern.id, way);
    else if (this.list.length > WAYS_LISTED) this.byId = new Map(this.list.map((w) => [w.pattern.id, w]));
  }
}

export class PacketDiff {
  /** A→B and B→A. */
  readonly forward = new DirectionStats();
  readonly backward = new DirectionStats();
  onlyA = 0;
  onlyB = 0;
  /** Packets only in A whose flow (or another to the same place) did reach B. */
  lost = 0;
  /** TCP segments only in A whose bytes reached B in other segments (GSO/GRO), and the same only in B. */
  resegmented = 0;
  resegmentedB = 0;
  /** Packets only in A whose TTL ran out at the router between A and B (traceroute, mtr). */
  expired = 0;
  /** The smallest lost packet, in bytes at A (Infinity while none is lost). */
  smallestLost = Infinity;
  /**
   * With the ICMP error sent back about the packet (a router's "fragmentation needed"), if any,
   * and for an ICMP error the id of the packet it quotes (null if that was not seen).
   */
  readonly onlyAListed: (DiffPacket & { lost: boolean; resegmented: boolean; expired: boolean; icmpError: IcmpErrorNote | null; quotes: number | null })[] = [];
  readonly onlyBListed: (DiffPacket & { resegmented: boolean; quotes: number | null })[] = [];
  private readonly patterns = new ChangePatterns();
  /** Per flow id: its ways of changing, with the first few packets of each. */
  private readonly waysOf: (FlowWays | undefined)[] = [];
  private readonly notes = new PacketNotes();

  constructor(
    private readonly a: number,
    private readonly b: number,
  ) {}

  add({ journey, flow, store, lost, resegmented, expired }: DecidedJourney): void {
    const sightings = journey.sightings;
    const first = sightings[0]!;
    if (sightings.length === 1) {
      const point = store.point[first]!;
      if (point === this.a) {
        this.onlyA += 1;
        if (lost !== null) {
          this.lost += 1;
          this.smallestLost = Math.min(this.smallestLost, store.length[first]!);
        }
        if (resegmented !== null) this.resegmented += 1;
        if (expired !== null) this.expired += 1;
        if (this.onlyAListed.length < LISTED) {
          this.onlyAListed.push({ ...briefOf(journey.id, flow, store, first), lost: lost !== null, resegmented: resegmented !== null, expired: expired !== null, icmpError: journey.icmpError, quotes: journey.quotedPacket });
        }
      } else if (point === this.b) {
        this.onlyB += 1;
        if (resegmented !== null) this.resegmentedB += 1;
        if (this.onlyBListed.length < LISTED) {
          this.onlyBListed.push({ ...briefOf(journey.id, flow, store, first), resegmented: resegmented !== null, quotes: journey.quotedPacket });
        }
      }
      return;
    }
    const second = sightings[1]!;
    const direction = store.point[first] === this.a ? this.forward : this.backward;
    const pattern = this.patterns.of(store, first, second);
    direction.add(store.correctedNs[second]! - store.correctedNs[first]!, pattern, store.length[first]!);
    const ways = (this.waysOf[flow.id] ??= new FlowWays(flow));
    const way = ways.find(pattern.id);
    if (way === undefined) {
      const note = this.notes.add(journey.id, store, first);
      ways.push({ pattern, count: 1, firstNote: note, lastNote: note });
      return;
    }
    way.count += 1;
    if (way.count <= KEPT_PER_PATTERN) {
      const note = this.notes.add(journey.id, store, first);
      this.notes.link(way.lastNote, note);
      way.lastNote = note;
    }
  }

  /**
   * Whether every lost packet was larger than any that got from A to B: an MTU on the way too
   * small (see losses.ts, tooBig).
   */
  get lostTooBig(): boolean {
    return this.lost > 0 && largerThanAllCrossed(this.smallestLost, this.forward.matched === 0 ? null : this.forward.largestLength);
  }

  /** Packets whose set of changes is not the most common one of their flow. */
  get odd(): OddPacket[] {
    const notes = this.notes;
    const odd: OddPacket[] = [];
    for (const ways of this.waysOf) {
      if (ways === undefined || ways.list.length < 2) continue;
      const { flow } = ways;
      const ranked = [...ways.list].sort((x, y) => y.count - x.count || notes.id(x.firstNote) - notes.id(y.firstNote));
      const usual = keysOf(ranked[0]!.pattern);
      for (const { pattern, firstNote } of ranked.slice(1)) {
        const changes = keysOf(pattern);
        for (let note = firstNote; note !== NONE; note = notes.next(note)) {
          odd.push({ id: notes.id(note), flow: flow.id, flowName: flow.name, name: notes.name(note), frame: notes.frame(note), changes, usual });
        }
      }
    }
    return odd.sort((x, y) => x.id - y.id).slice(0, LISTED);
  }
}

function briefOf(id: number, flow: Flow, store: SightingStore, slot: number): DiffPacket {
  return { id, flow: flow.id, flowName: flow.name, name: packetNameAt(store, slot), frame: store.frame[slot]! };
}

/**
 * The changes of one packet as diff counts them. Encapsulation added or removed is one change,
 * "+ VXLAN vni 11, 10.211.55.122 → 10.211.55.123:4789 (+50 bytes)", not eight outer fields
 * appearing one by one (the packet JSON of trace has them all).
 */
function countedChanges(changes: readonly Change[]): { key: string; change: Change }[] {
  const vni = changes.find((c) => c.field === 'vxlan.vni' && (c.from === null || c.to === null));
  if (vni === undefined) return changes.map((change) => ({ key: diffKey(change), change }));
  const added = vni.from === null;
  const value = (field: string) => {
    const c = changes.find((x) => x.field === field);
    return c === undefined ? '?' : added ? c.to : c.from;
  };
  const length = changes.find((c) => c.field === 'frame.len');
  const bytes = length === undefined ? '' : ` (${signed((length.to as number) - (length.from as number))} bytes)`;
  const vlan = changes.some((c) => c.field === 'outer.vlan.id') ? ` on VLAN ${value('outer.vlan.id')}` : '';
  const tunnel = `${value('outer.ip.src')} \u2192 ${value('outer.ip.dst')}:${value('outer.udp.dstport')}${vlan}`;
  const key = `${added ? '+' : '\u2212'} VXLAN vni ${added ? vni.to : vni.from}, ${tunnel}${bytes}`;
  const rest = changes.filter((c) => c !== vni && c !== length && !c.field.startsWith('outer.'));
  return [{ key, change: vni }, ...rest.map((change) => ({ key: diffKey(change), change }))];
}


const keysOf = (pattern: ChangePattern): string[] => countedChanges(patternChanges(pattern)).map((c) => c.key);

/**
 * How diff counts a change: TTLs and lengths as differences ("ip.ttl −1", "frame.len +50"),
 * which are the same for every packet of a path; the rest as from → to.
 */
export function diffKey(change: Change): string {
  const { field, from, to } = change;
  if ((field === 'ip.ttl' || field === 'outer.ip.ttl' || field === 'frame.len') && typeof from === 'number' && typeof to === 'number') {
    return `${field} ${signed(to - from)}`;
  }
  if (field === 'vxlan.vni' && from === null) return `+ VXLAN vni ${to}`;
  if (field === 'vxlan.vni' && to === null) return `\u2212 VXLAN vni ${from}`;
  if (field === 'vlan.id' || field === 'outer.vlan.id') return vlanWords(change);
  return `${field} ${from ?? '(none)'} \u2192 ${to ?? '(none)'}`;
}
