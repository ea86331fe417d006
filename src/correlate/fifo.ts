/**
 * A first-in first-out queue in a ring that doubles when full: the matcher's open journeys and
 * the flow table's journeys waiting to be decided, in the order they came.
 *
 * An array read from a moving head and cut down now and then (slice) grew back by push() after
 * every cut, a copy each time: on two 1M-packet captures, 70 MB of arrays made and thrown away.
 * The ring grows to the most items ever queued at once and is then never copied again.
 */
export class Fifo<T> {
  /** A power of two long, so that a place wraps round with a mask. */
  private items: (T | undefined)[] = new Array<T | undefined>(1024).fill(undefined);
  private mask = 1023;
  /** Where the oldest item is, and how many there are. */
  private head = 0;
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(item: T): void {
    if (this.count === this.items.length) this.grow();
    this.items[(this.head + this.count) & this.mask] = item;
    this.count += 1;
  }

  /** The oldest item; undefined when empty. */
  peek(): T | undefined {
    return this.count === 0 ? undefined : this.items[this.head];
  }

  /** Takes out the oldest item (the queue must not be empty). */
  shift(): T {
    const item = this.items[this.head]!;
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.count -= 1;
    return item;
  }

  private grow(): void {
    const items = this.items;
    const bigger = new Array<T | undefined>(items.length * 2).fill(undefined);
    for (let i = 0; i < this.count; i++) bigger[i] = items[(this.head + i) & this.mask];
    this.items = bigger;
    this.mask = bigger.length - 1;
    this.head = 0;
  }
}
