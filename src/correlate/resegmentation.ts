import type { Journey } from './journeys.js';
import { Kind, type SightingStore } from './sighting.js';

const TCP = 6;

/** A TCP segment's bytes as one capture point saw them, and where else that segment was seen. */
interface SegmentSeen {
  /** Its sequence number and payload length: the bytes [seq, seq + length) of the stream. */
  readonly seq: number;
  readonly length: number;
  readonly seenNs: number;
  /** The points its journey was seen at. */
  readonly points: readonly number[];
}

/**
 * TCP segments cut or joined on the way. Segmentation offload (GSO, TSO) sends a TCP segment of
 * up to 64 KB through the stack and cuts it into MTU-sized ones only at a device that cannot
 * carry it, say an eth0 with offloads off; receive offload (GRO) joins segments again, say on
 * the VXLAN device. A capture on each side sees other packets, with the same bytes: the large
 * segment is seen up to the cut, the small ones after it, and neither is lost.
 *
 * So the bytes of TCP segments that did not cross their flow's whole path are noted per point,
 * keyed by the acknowledgement number (the same in every piece of a cut segment, and what GRO
 * requires of segments it joins; NAT leaves it alone). A segment not seen at the next point was
 * carried there in other packets when packets the previous point never saw, together, cover its
 * bytes within the window. A retransmission, which passes the previous point too, does not
 * count: a segment dropped and sent again is still lost.
 *
 * Journeys that crossed the whole path are not noted: this costs nothing while no offload cuts.
 */
export class SegmentLog {
  /** Per point and acknowledgement number ("3 1962792697"), the segments seen there. */
  private readonly seen = new Map<string, SegmentSeen[]>();

  constructor(
    private readonly store: SightingStore,
    private readonly windowNs: number,
  ) {}

  /** Notes a journey's TCP bytes at every point it was seen at, if it is a TCP segment with data. */
  note(journey: Journey): void {
    const store = this.store;
    if (!isTcpData(store, journey.sightings[0]!)) return;
    const points = journey.sightings.map((slot) => store.point[slot]!);
    for (const slot of journey.sightings) {
      const key = keyOf(store.point[slot]!, store.ack[slot]!);
      const segment: SegmentSeen = { seq: store.seq[slot]!, length: store.payloadLength[slot]!, seenNs: store.correctedNs[slot]!, points };
      const list = this.seen.get(key);
      if (list === undefined) this.seen.set(key, [segment]);
      else list.push(segment);
    }
  }

  /**
   * Whether the bytes of the TCP segment in `slot`, last seen at point `from`, were seen at point
   * `at` within the window in other packets that were not seen at `from`.
   */
  carriedElsewhere(slot: number, from: number, at: number): boolean {
    const store = this.store;
    if (!isTcpData(store, slot)) return false;
    const list = this.seen.get(keyOf(at, store.ack[slot]!));
    if (list === undefined) return false;
    const seq = store.seq[slot]!;
    const length = store.payloadLength[slot]!;
    const seenNs = store.correctedNs[slot]!;
    // The pieces' bytes relative to this segment's first byte (sequence numbers wrap at 2^32).
    const pieces: [number, number][] = [];
    for (const piece of list) {
      if (Math.abs(piece.seenNs - seenNs) > this.windowNs || piece.points.includes(from)) continue;
      const start = (piece.seq - seq) | 0;
      if (start < length && start + piece.length > 0) pieces.push([start, start + piece.length]);
    }
    return covers(pieces, length);
  }

  /** Forgets the segments seen before `limitNs`. */
  forgetBefore(limitNs: number): void {
    for (const [key, list] of this.seen) {
      const recent = list.filter((segment) => segment.seenNs >= limitNs);
      if (recent.length === 0) this.seen.delete(key);
      else if (recent.length < list.length) this.seen.set(key, recent);
    }
  }
}

/** A TCP segment that carries data: only those can be cut or joined. */
function isTcpData(store: SightingStore, slot: number): boolean {
  return store.kind[slot] === Kind.Ipv4 && store.proto[slot] === TCP && store.payloadLength[slot]! > 0;
}

function keyOf(point: number, ack: number): string {
  return `${point} ${ack}`;
}

/** Whether the ranges [start, end) together cover [0, length). */
function covers(ranges: [number, number][], length: number): boolean {
  ranges.sort((a, b) => a[0] - b[0]);
  let covered = 0;
  for (const [start, end] of ranges) {
    if (start > covered) return false;
    if (end > covered) covered = end;
    if (covered >= length) return true;
  }
  return covered >= length;
}
