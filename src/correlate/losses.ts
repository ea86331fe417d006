import { packetName } from './describe.js';
import type { DecidedJourney, Flow, HopSizes, TracedPacket } from './flows.js';
import type { IcmpErrorNote } from './icmp-errors.js';
import type { Sighting } from './sighting.js';

/** Lost packets listed per group at most; the count goes on beyond. */
const LISTED_PER_GROUP = 1000;

export interface LostPacket {
  id: number;
  /** Frame number at the last point that saw it. */
  frame: number;
  name: string;
  /** The ICMP error sent back about it (a router's "fragmentation needed"), if one was seen. */
  icmpError: IcmpErrorNote | null;
}

/** Packets of one flow lost between the same two points. */
export interface LossGroup {
  flow: Flow;
  after: number;
  before: number;
  count: number;
  packets: LostPacket[];
  /** The smallest of its packets, in bytes at `after`. */
  smallestLength: number;
  /**
   * The largest packet any flow got over the same hop, in bytes at `after` (judgeSizes), or null
   * where none did: lost packets all larger than that point to an MTU on the way (see tooBig).
   */
  largestCrossed: number | null;
}

/** Collects the lost packets of a trace, grouped by flow and hop, in the order they were lost. */
export class LossLog {
  private readonly groups = new Map<string, LossGroup>();

  add(packet: TracedPacket): void {
    if (packet.lost === null) return;
    const last = packet.sightings[packet.sightings.length - 1]!.sighting;
    this.record(packet.id, packet.flow, packet.lost, packet.icmpError, last.length, () => last);
  }

  /** The same from a journey straight out of the sighting store. */
  addDecided({ journey, flow, store, lost }: DecidedJourney): void {
    if (lost === null) return;
    const last = journey.sightings[journey.sightings.length - 1]!;
    this.record(journey.id, flow, lost, journey.icmpError, store.length[last]!, () => store.snapshot(last));
  }

  private record(id: number, flow: Flow, lost: { after: number; before: number }, icmpError: IcmpErrorNote | null, length: number, lastSighting: () => Sighting): void {
    const { after, before } = lost;
    const key = `${flow.id} ${after} ${before}`;
    let group = this.groups.get(key);
    if (group === undefined) {
      group = { flow, after, before, count: 0, packets: [], smallestLength: length, largestCrossed: null };
      this.groups.set(key, group);
    }
    group.count += 1;
    if (length < group.smallestLength) group.smallestLength = length;
    if (group.packets.length < LISTED_PER_GROUP) {
      const last = lastSighting();
      group.packets.push({ id, frame: last.frame, name: packetName(last), icmpError });
    }
  }

  /**
   * Notes for every group the largest packet that crossed its hop (TraceResult's hopSizes, all
   * traffic together): at the end, so that packets decided after a loss count too.
   */
  judgeSizes(sizes: HopSizes): void {
    for (const group of this.groups.values()) group.largestCrossed = sizes.largestCrossed(group.after, group.before);
  }

  get all(): LossGroup[] {
    return [...this.groups.values()];
  }

  get total(): number {
    let n = 0;
    for (const group of this.groups.values()) n += group.count;
    return n;
  }

  /** The groups of one flow, by the hop after which they were lost. */
  ofFlow(flow: Flow): LossGroup[] {
    return this.all.filter((g) => g.flow === flow);
  }
}

/**
 * Whether every packet of the group was larger than any that crossed its hop: what an MTU too
 * small on the way does (a bridge drops a frame too big for its port without a word; an
 * underlay may drop a tunnel packet with DF without sending "fragmentation needed"), while
 * smaller packets of the same flows get through.
 */
export function tooBig(group: LossGroup): boolean {
  return largerThanAllCrossed(group.smallestLength, group.largestCrossed);
}

/** Whether lost packets whose smallest was `smallestLost` bytes were all larger than the largest that crossed (null: none did). */
export function largerThanAllCrossed(smallestLost: number, largestCrossed: number | null): boolean {
  return largestCrossed !== null && smallestLost > largestCrossed;
}
