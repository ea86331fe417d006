import type { Flow } from './flows.js';
import type { Sighting } from './sighting.js';

/**
 * One packet's journey: its sightings at the capture points, as the matcher collected them
 * (arrival order). Ordering them along the path is the caller's business (see path.ts).
 */
export class Journey {
  /** In arrival order until orderSightings puts them in travel order (in place). */
  readonly sightings: Sighting[];
  firstNs: number;
  lastNs: number;
  /** Travels along the point order (set by orderSightings). */
  forward = true;
  /** The flow it belongs to, once the flow table has it. */
  flow: Flow | null = null;

  constructor(
    readonly id: number,
    first: Sighting,
  ) {
    this.sightings = [first];
    this.firstNs = first.correctedNs;
    this.lastNs = first.correctedNs;
  }

  get identity(): number {
    return this.sightings[0]!.identity;
  }

  seenAt(point: number): boolean {
    for (const sighting of this.sightings) if (sighting.point === point) return true;
    return false;
  }

  add(sighting: Sighting): void {
    this.sightings.push(sighting);
    if (sighting.correctedNs > this.lastNs) this.lastNs = sighting.correctedNs;
    if (sighting.correctedNs < this.firstNs) this.firstNs = sighting.correctedNs;
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
 * A journey is complete once time has moved a window past its latest sighting; complete
 * journeys are handed on in the order they started, which keeps the output deterministic.
 */
export class JourneyMatcher {
  private readonly open = new Map<number, Journey>();
  private queue: Journey[] = [];
  private queueHead = 0;
  private nextId = 1;

  constructor(
    private readonly windowNs: number,
    private readonly onComplete: (journey: Journey) => void,
  ) {}

  /** Journeys started so far. */
  get started(): number {
    return this.nextId - 1;
  }

  add(sighting: Sighting): void {
    const now = sighting.correctedNs;
    this.completeBefore(now - this.windowNs);
    const candidate = this.open.get(sighting.identity);
    if (candidate !== undefined && !candidate.seenAt(sighting.point) && Math.abs(now - candidate.lastNs) <= this.windowNs) {
      candidate.add(sighting);
      return;
    }
    const journey = new Journey(this.nextId++, sighting);
    this.open.set(sighting.identity, journey);
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
      if (this.open.get(journey.identity) === journey) this.open.delete(journey.identity);
      this.onComplete(journey);
    }
    if (head > 4096 && head * 2 > queue.length) {
      this.queue = queue.slice(head);
      head = 0;
    }
    this.queueHead = head;
  }
}
