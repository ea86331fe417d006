import { differingColumns } from './changes.js';
import { Fifo } from './fifo.js';
import type { Flow } from './flows.js';
import { type IcmpErrorNote, icmpErrorNote } from './icmp-errors.js';
import { smallKey } from './identity-hash.js';
import { KeyTable } from './key-table.js';
import { NONE, quotedIdentityAt, type SightingStore } from './sighting.js';

/**
 * One packet's journey: its sightings (slots of the sighting store) at the capture points, in
 * arrival order until orderSightings puts them in travel order.
 *
 * Journeys are reused (JourneyPool): one is valid until the flow table has decided it.
 */
export class Journey {
  readonly sightings: number[] = [];
  id = 0;
  identity = 0;
  /** The payload hash of its sightings that have one (SightingStore.payloadHash), or NONE. */
  payloadHash = NONE;
  firstNs = 0;
  lastNs = 0;
  /** Travels along the point order (set by orderSightings). */
  forward = true;
  /**
   * Seen at its ends at once (as far as the clocks tell), and no flow showed yet which way it
   * went: `forward` is a guess, looked at again when the journey is decided.
   */
  undetermined = false;
  /** The flow it belongs to, once the flow table has it. */
  flow: Flow | null = null;
  /**
   * The previous open journey with the same key in the matcher: a copy of the packet in flight,
   * or rarely a packet whose identity shares the key's bits.
   */
  twin: Journey | null = null;
  /** The ICMP error a router or host sent about this packet (JourneyMatcher links them), if any. */
  icmpError: IcmpErrorNote | null = null;
  /** For an ICMP error: the id of the journey of the packet it quotes; 0 for none (ids start at 1). */
  quotes = 0;
  /**
   * That journey, while it is the same one: journeys are reused once decided, so whoever reads
   * it checks that its id is still `quotes`.
   */
  quotedJourney: Journey | null = null;

  /** `quotes` for reports: null for none. */
  get quotedPacket(): number | null {
    return this.quotes === 0 ? null : this.quotes;
  }

  /** Starts it afresh, new or reused, with its first sighting. */
  start(id: number, identity: number, first: number, timeNs: number): this {
    // Emptied by pop(), which V8 inlines and which leaves the array room for a few sightings;
    // setting `length` is a call into the runtime, and cost more than the rest of starting.
    const sightings = this.sightings;
    while (sightings.length > 0) sightings.pop();
    sightings.push(first);
    this.id = id;
    this.identity = identity;
    this.payloadHash = NONE;
    this.firstNs = timeNs;
    this.lastNs = timeNs;
    this.forward = true;
    this.undetermined = false;
    this.flow = null;
    this.twin = null;
    this.icmpError = null;
    this.quotes = 0;
    this.quotedJourney = null;
    return this;
  }

  seenAt(point: number, store: SightingStore): boolean {
    return this.slotAt(point, store) !== NONE;
  }

  /** Its sighting at `point`, or NONE. */
  slotAt(point: number, store: SightingStore): number {
    for (const slot of this.sightings) if (store.point[slot] === point) return slot;
    return NONE;
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
 * The same frame seen again at one point within this time is a duplicate, not another packet: a
 * port mirror's second copy, a capture merged with itself. A retransmission comes later, and
 * Linux gives it another IP ID; a packet that comes back through the same point (hairpin NAT)
 * comes back rewritten.
 */
export const DUPLICATE_WITHIN_NS = 10_000;

/** Whether the sighting in `later` is the one in `earlier` again (same point): every field the same, within DUPLICATE_WITHIN_NS. */
export function sameFrameAgain(store: SightingStore, earlier: number, later: number): boolean {
  return (
    store.point[earlier] === store.point[later] &&
    store.identity[earlier] === store.identity[later] &&
    store.payloadHash[earlier] === store.payloadHash[later] &&
    Math.abs(store.correctedNs[later]! - store.correctedNs[earlier]!) <= DUPLICATE_WITHIN_NS &&
    differingColumns(store, earlier, later) === 0
  );
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
  /** The newest open journey per key (smallKey of its identity), the older ones behind it as twins. */
  private readonly open = new KeyTable<Journey>();
  /** The open journeys in the order they started. */
  private readonly queue = new Fifo<Journey>();
  private nextId = 1;
  /** Per point, the sightings left out as duplicates of one just before (DUPLICATE_WITHIN_NS). */
  readonly duplicates: number[] = [];
  /** The open journey the last sighting added joined; null when it started one or was a duplicate. */
  joined: Journey | null = null;

  constructor(
    private readonly store: SightingStore,
    private readonly windowNs: number,
    private readonly onComplete: (journey: Journey) => void,
    /** Where new journeys come from: decided ones handed back, or new objects. */
    private readonly pool = new JourneyPool(),
  ) {}

  /** Journeys started so far. */
  get started(): number {
    return this.nextId - 1;
  }

  add(slot: number): void {
    const store = this.store;
    const now = store.correctedNs[slot]!;
    const identity = store.identity[slot]!;
    const payload = store.payloadHash[slot]!;
    const point = store.point[slot]!;
    this.completeBefore(now - this.windowNs);
    const key = smallKey(identity);
    const newest = this.open.get(key);
    this.joined = null;
    // Complete journeys are cut out of the chains (completeBefore): every candidate is open.
    for (let candidate = newest ?? null; candidate !== null; candidate = candidate.twin) {
      // Another packet whose identity shares the key's bits, or whose headers agree but its
      // payload differs (where both captures hold it).
      if (candidate.identity !== identity) continue;
      if (payload !== NONE && candidate.payloadHash !== NONE && payload !== candidate.payloadHash) continue;
      // Older copies are out of reach too.
      if (Math.abs(now - candidate.lastNs) > this.windowNs) break;
      if (!candidate.seenAt(point, store) && candidate.accepts(slot, store)) {
        candidate.add(slot, now);
        if (candidate.payloadHash === NONE) candidate.payloadHash = payload;
        this.joined = candidate;
        return;
      }
      if (this.duplicateOf(candidate, slot, point)) {
        this.duplicates[point] = (this.duplicates[point] ?? 0) + 1;
        store.release(slot);
        return;
      }
    }
    const journey = this.pool.take().start(this.nextId++, identity, slot, now);
    journey.payloadHash = payload;
    journey.twin = newest ?? null;
    this.open.set(key, journey);
    this.queue.push(journey);
    const quoted = quotedIdentityAt(store, slot);
    if (quoted !== NONE) this.linkQuoted(journey, slot, quoted);
  }

  /**
   * An ICMP error, first seen in `slot`: the newest open journey with the identity its quote
   * gives learns why it went no farther, and the error which packet it was about. A packet whose
   * journey is already complete (a window before the error) is not looked for.
   */
  private linkQuoted(error: Journey, slot: number, quoted: number): void {
    for (let candidate = this.open.get(smallKey(quoted)) ?? null; candidate !== null; candidate = candidate.twin) {
      if (candidate.identity !== quoted || candidate === error) continue;
      candidate.icmpError = icmpErrorNote(this.store, slot, error.id);
      error.quotes = candidate.id;
      error.quotedJourney = candidate;
      return;
    }
  }

  /** Whether `slot` is the frame `journey` was seen as at `point` again, just after. */
  private duplicateOf(journey: Journey, slot: number, point: number): boolean {
    const earlier = journey.slotAt(point, this.store);
    return earlier !== NONE && sameFrameAgain(this.store, earlier, slot);
  }

  /** Completes every journey still open (at the end of the captures). */
  finish(): void {
    this.completeBefore(Infinity);
  }

  private completeBefore(limitNs: number): void {
    const queue = this.queue;
    // The oldest journey may still be growing; those behind it wait for it, which keeps the
    // order and costs at most a few windows of memory.
    for (let oldest = queue.peek(); oldest !== undefined && oldest.lastNs < limitNs; oldest = queue.peek()) {
      queue.shift();
      oldest.twin = null;
      this.unlink(oldest);
      this.onComplete(oldest);
    }
  }

  /**
   * Takes a journey that has completed out of its chain, where a newer one may point at it:
   * it is reused once decided. Journeys complete in the order they started, so every older one
   * in the chain has completed and was taken out before.
   */
  private unlink(journey: Journey): void {
    const key = smallKey(journey.identity);
    const newest = this.open.get(key);
    if (newest === journey) {
      this.open.delete(key);
      return;
    }
    for (let newer = newest; newer !== undefined && newer.twin !== null; newer = newer.twin) {
      if (newer.twin === journey) {
        newer.twin = null;
        return;
      }
    }
  }
}

/**
 * Journeys done with, for the matcher to reuse. A journey lives for the window and the hold,
 * long enough to be moved to the old generation, where making one per packet gave the
 * collector much of its work. trace hands one pool to the matcher, which takes from it, and to
 * the flow table, which gives back what it has decided.
 */
export class JourneyPool {
  private readonly free: Journey[] = [];

  /** A journey to start(). */
  take(): Journey {
    return this.free.pop() ?? new Journey();
  }

  /** Hands a decided journey back; nothing may use it afterwards. */
  release(journey: Journey): void {
    this.free.push(journey);
  }
}
