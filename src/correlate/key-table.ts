/**
 * A hash table from hashes (non-negative integers below 2^30, see smallKey) to objects, by
 * open addressing with linear probing: the keys in one Int32Array, the values in a parallel
 * array. The keys are hashes already, so a key's own low bits are its home place.
 *
 * The journey matcher looks up, inserts or deletes a key two or three times per packet, over
 * tens of thousands of open journeys. A Map does that through a bucket array and a chain of
 * entries, two or three cache misses each time; here a probe is usually one. Deleting shifts
 * the later entries of the run back (no tombstones), so the table never needs cleaning.
 */
export class KeyTable<T> {
  /** key + 1 per place, 0 for an empty one. */
  private keys: Int32Array;
  private values: (T | undefined)[];
  private mask: number;
  private count = 0;

  constructor(capacity = 1024) {
    const size = 2 ** Math.ceil(Math.log2(Math.max(capacity, 16)));
    this.keys = new Int32Array(size);
    this.values = new Array<T | undefined>(size).fill(undefined);
    this.mask = size - 1;
  }

  get size(): number {
    return this.count;
  }

  get(key: number): T | undefined {
    const keys = this.keys;
    const stored = key + 1;
    for (let at = key & this.mask; ; at = (at + 1) & this.mask) {
      const here = keys[at]!;
      if (here === stored) return this.values[at];
      if (here === 0) return undefined;
    }
  }

  /** Stores `value` under `key`, replacing what was there. */
  set(key: number, value: T): void {
    const keys = this.keys;
    const stored = key + 1;
    let at = key & this.mask;
    for (; keys[at] !== 0; at = (at + 1) & this.mask) {
      if (keys[at] === stored) {
        this.values[at] = value;
        return;
      }
    }
    keys[at] = stored;
    this.values[at] = value;
    this.count += 1;
    // At most half full, so that runs stay short.
    if (this.count * 2 > keys.length) this.grow();
  }

  delete(key: number): void {
    const keys = this.keys;
    const mask = this.mask;
    const stored = key + 1;
    let at = key & mask;
    for (; keys[at] !== stored; at = (at + 1) & mask) if (keys[at] === 0) return;
    this.count -= 1;
    // Backward-shift deletion: move up each later entry of the run whose home is not between
    // the hole and itself, so that every lookup still finds its key before an empty place.
    let hole = at;
    for (let next = (hole + 1) & mask; keys[next] !== 0; next = (next + 1) & mask) {
      const home = (keys[next]! - 1) & mask;
      const stays = hole <= next ? hole < home && home <= next : hole < home || home <= next;
      if (stays) continue;
      keys[hole] = keys[next]!;
      this.values[hole] = this.values[next];
      hole = next;
    }
    keys[hole] = 0;
    this.values[hole] = undefined;
  }

  private grow(): void {
    const keys = this.keys;
    const values = this.values;
    const size = keys.length * 2;
    this.keys = new Int32Array(size);
    this.values = new Array<T | undefined>(size).fill(undefined);
    this.mask = size - 1;
    this.count = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== 0) this.set(keys[i]! - 1, values[i] as T);
  }
}
