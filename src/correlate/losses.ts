import { packetName } from './describe.js';
import type { DecidedJourney, Flow, TracedPacket } from './flows.js';
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
}

/** Collects the lost packets of a trace, grouped by flow and hop, in the order they were lost. */
export class LossLog {
  private readonly groups = new Map<string, LossGroup>();

  add(packet: TracedPacket): void {
    if (packet.lost === null) return;
    this.record(packet.id, packet.flow, packet.lost, packet.icmpError, () => packet.sightings[packet.sightings.length - 1]!.sighting);
  }

  /** The same from a journey straight out of the sighting store. */
  addDecided({ journey, flow, store, lost }: DecidedJourney): void {
    if (lost === null) return;
    this.record(journey.id, flow, lost, journey.icmpError, () => store.snapshot(journey.sightings[journey.sightings.length - 1]!));
  }

  private record(id: number, flow: Flow, lost: { after: number; before: number }, icmpError: IcmpErrorNote | null, lastSighting: () => Sighting): void {
    const { after, before } = lost;
    const key = `${flow.id} ${after} ${before}`;
    let group = this.groups.get(key);
    if (group === undefined) {
      group = { flow, after, before, count: 0, packets: [] };
      this.groups.set(key, group);
    }
    group.count += 1;
    if (group.packets.length < LISTED_PER_GROUP) {
      const last = lastSighting();
      group.packets.push({ id, frame: last.frame, name: packetName(last), icmpError });
    }
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
