import type { Flow } from './flows.js';
import { NONE, type SightingStore } from './sighting.js';

/**
 * One packet's journey: its sightings (slots of the sighting store) at the capture points, in
 * arrival order until orderSightings puts them in travel order.
 */
export class Journey {
  readonly sightings: number[];
  firstNs: number;
  lastNs: number;
  /** Travels along the point order (set by orderSightings). */
  forward = true;
  /** The flow it belongs to, once the flow table has it. */
  flow: Flow | null = null;
  /**
   * The previous open journey with the same key in the matcher: a copy of the packet in flight,
   * or rarely a packet whose identity shares the key's bits.
   */
  twin: Journey | null = null;
  complete = false;

  constructor(
    readonly id: number,
    readonly identity: number,
    first: number,
    timeNs: number,
  ) {
    this.sightings = [first];
    this.firstNs = timeNs;
    this.lastNs = timeNs;
  }

  seenAt(point: number, store: SightingStore): boolean {
    for (const slot of this.sightings) if (store.point[slot] === point) return true;
    return false;
  }

  /**
   * Whether a sighting can be this packet: in another VXLAN tunnel (another VNI) it is a copy
   * of the packet, not the packet (the same frame sent into two overlays).
   */
  accepts(slot: number, store: SightingStore): boolean {
    const vni = store.vni[slot]!;
    if (vni === NONE) return true;
    for (const seen of this.sightings) {
      const seenVni = store.vni[seen]!;
      if (seenVni !== NONE && seenVni !== vni) return false;
    }
    return true;
  }

  add(slot: number, timeNs: number): void {
    this.sightings.push(slot);
    if (timeNs > this.lastNs) this.lastNs = timeNs;
    if (timeNs < this.firstNs) this.firstNs = timeNs;
  }
}

/**
 * Groups sightings of the same packet into journeys, streaming, in memory bounded by the window.
 *
 * Sightings arrive in (clock-corrected) time order over all points. A sighting joins the open
 * journey with the same identity when that journey has not been seen at this point yet and its
 * latest sighting is within the window; otherwise it starts a new journey, which from then on
 * is the one its identity finds ("nearest first"). So a retransmission, a repeated ARP request
 * or an IP ID that comes round again starts a journey of its own as soon as it shows up at a
 * point its twin already passed, and a twin that is older than the window is never joined.
 *
 * Two copies of one packet can be in flight at once (the same frame sent into two VXLAN
 * tunnels): a sighting then goes to the newest copy it fits, one in its own tunnel.
 *
 * A journey is complete once time has moved a window past its latest sighting; complete
 * journeys are handed on in the order they started, which keeps the output deterministic.
 */
export class JourneyMatcher {
  /** The newest open journey per key (matchKey of its identity), the older ones behind it as twins. */
  private readonly open = new Map<number, Journey>();
  private queue: Journey[] = [];
  private queueHead = 0;
  private nextId = 1;

  constructor(
    private readonly store: SightingStore,
    private readonly windowNs: number,
    private readonly onComplete: (journey: Journey) => void,
  ) {}

  /** Journeys started so far. */
  get started(): number {
    return this.nextId - 1;
  }

  add(slot: number): void {
    const store = this.store;
    const now = store.correctedNs[slot]!;
    const identity = store.identity[slot]!;
    const point = store.point[slot]!;
    this.completeBefore(now - this.windowNs);
    const key = matchKey(identity);
    const newest = this.open.get(key);
    for (let candidate = newest ?? null, newer: Journey | null = null; candidate !== null; newer = candidate, candidate = candidate.twin) {
      if (candidate.complete) {
        // Journeys complete in the order they started, so every older one has: drop them.
        if (newer !== null) newer.twin = null;
        break;
      }
      // Another packet whose identity shares the key's bits.
      if (candidate.identity !== identity) continue;
      // Older copies are out of reach too.
      if (Math.abs(now - candidate.lastNs) > this.windowNs) break;
      if (!candidate.seenAt(point, store) && candidate.accepts(slot, store)) {
        candidate.add(slot, now);
        return;
      }
    }
    const journey = new Journey(this.nextId++, identity, slot, now);
    journey.twin = newest ?? null;
    this.open.set(key, journey);
    this.queue.push(journey);
  }

  /** Completes every journey still open (at the end of the captures). */
  finish(): void {
    this.completeBefore(Infinity);
  }

  private completeBefore(limitNs: number): void {
    const queue = this.queue;
    let head = this.queueHead;
    // The oldest journey may still be growing; those behind it wait for it, which keeps the
    // order and costs at most a few windows of memory.
    while (head < queue.length && queue[head]!.lastNs < limitNs) {
      const journey = queue[head]!;
      head += 1;
      journey.complete = true;
      journey.twin = null;
      const key = matchKey(journey.identity);
      if (this.open.get(key) === journey) this.open.delete(key);
      this.onComplete(journey);
    }
    if (head > 4096 && head * 2 > queue.length) {
      this.queue = queue.slice(head);
      head = 0;
    }
    this.queueHead = head;
  }
}

/**
 * The open journeys' key: the identity's low 30 bits. The identity (52 bits) is a heap number,
 * and a Map keyed by heap numbers boxes every key it is asked for; 30 bits are a small integer.
 * (`&` takes the identity modulo 2^32, exactly, then keeps its low 30 bits.)
 */
function matchKey(identity: number): number {
  return identity & 0x3fffffff;
}
