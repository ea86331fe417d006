import { type Change, signed } from './changes.js';
import { packetName } from './describe.js';
import type { Flow, TracedPacket } from './flows.js';
import { LatencySample } from './latency.js';

/**
 * `vxdump diff A B`: two capture points, A before B on the path, compared packet by packet.
 * The packets come from the trace machinery with the path fixed to [A, B]; this class sorts
 * them into matched (per direction), only in A and only in B, and counts the header changes.
 */

/** Packets listed per category at most; counts go on beyond. */
const LISTED = 1000;

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
  readonly latency = new LatencySample();
  private readonly counts = new Map<string, ChangeCount>();

  add(deltaNs: number, changes: readonly Change[]): void {
    this.matched += 1;
    this.latency.add(deltaNs);
    for (const { key, change } of countedChanges(changes)) {
      const known = this.counts.get(key);
      if (known !== undefined) known.packets += 1;
      else this.counts.set(key, { key, field: change.field, from: change.from, to: change.to, packets: 1 });
    }
  }

  get changes(): ChangeCount[] {
    return [...this.counts.values()];
  }

  /** Matched packets that had a change of this field (for --fail-on-change). */
  changedField(field: string): number {
    let n = 0;
    for (const count of this.counts.values()) if (count.field === field) n += count.packets;
    return n;
  }
}

/** A packet whose changes differ from what most packets of its flow had over the same hop. */
export interface OddPacket extends DiffPacket {
  changes: string[];
  usual: string[];
}

export class PacketDiff {
  /** A→B and B→A. */
  readonly forward = new DirectionStats();
  readonly backward = new DirectionStats();
  onlyA = 0;
  onlyB = 0;
  /** Packets only in A whose flow (or another to the same place) did reach B. */
  lost = 0;
  readonly onlyAListed: (DiffPacket & { lost: boolean })[] = [];
  readonly onlyBListed: DiffPacket[] = [];
  /** Per flow: change-set → packets, to find the odd ones at the end. */
  private readonly perFlow = new Map<Flow, Map<string, DiffPacket[]>>();

  constructor(
    private readonly a: number,
    private readonly b: number,
  ) {}

  add(packet: TracedPacket): void {
    const sightings = packet.sightings;
    const first = sightings[0]!.sighting;
    const brief: DiffPacket = { id: packet.id, flow: packet.flow.id, flowName: packet.flow.name, name: packetName(first), frame: first.frame };
    if (sightings.length === 1) {
      if (first.point === this.a) {
        this.onlyA += 1;
        if (packet.lost !== null) this.lost += 1;
        if (this.onlyAListed.length < LISTED) this.onlyAListed.push({ ...brief, lost: packet.lost !== null });
      } else if (first.point === this.b) {
        this.onlyB += 1;
        if (this.onlyBListed.length < LISTED) this.onlyBListed.push(brief);
      }
      return;
    }
    const second = sightings[1]!;
    const direction = first.point === this.a ? this.forward : this.backward;
    direction.add(second.deltaNs!, second.changes);
    const set = countedChanges(second.changes)
      .map((c) => c.key)
      .join('; ');
    let sets = this.perFlow.get(packet.flow);
    if (sets === undefined) {
      sets = new Map();
      this.perFlow.set(packet.flow, sets);
    }
    const list = sets.get(set);
    if (list === undefined) sets.set(set, [brief]);
    else if (list.length < LISTED) list.push(brief);
  }

  /** Packets whose set of changes is not the most common one of their flow. */
  get odd(): OddPacket[] {
    const odd: OddPacket[] = [];
    for (const sets of this.perFlow.values()) {
      if (sets.size < 2) continue;
      const ranked = [...sets.entries()].sort((x, y) => y[1].length - x[1].length || (x[0] < y[0] ? -1 : 1));
      const usual = ranked[0]![0];
      for (const [set, packets] of ranked.slice(1)) {
        for (const p of packets) odd.push({ ...p, changes: split(set), usual: split(usual) });
      }
    }
    return odd.sort((x, y) => x.id - y.id).slice(0, LISTED);
  }
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
  const tunnel = `${value('outer.ip.src')} \u2192 ${value('outer.ip.dst')}:${value('outer.udp.dstport')}`;
  const key = `${added ? '+' : '\u2212'} VXLAN vni ${added ? vni.to : vni.from}, ${tunnel}${bytes}`;
  const rest = changes.filter((c) => c !== vni && c !== length && !c.field.startsWith('outer.'));
  return [{ key, change: vni }, ...rest.map((change) => ({ key: diffKey(change), change }))];
}

const split = (set: string): string[] => (set === '' ? [] : set.split('; '));

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
  return `${field} ${from ?? '(none)'} \u2192 ${to ?? '(none)'}`;
}
