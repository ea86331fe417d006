/**
 * Delays of one hop: count, min, max exactly; the median exactly up to `reservoir` values and
 * from a uniform sample of them beyond (Algorithm R). The slot a value replaces comes from a hash
 * of the count, not a random generator, so that runs repeat and no generator state is kept per
 * hop (a trace may have half a million hops).
 */
export class LatencySample {
  count = 0;
  min = Infinity;
  max = -Infinity;
  /**
   * Made at the second value: most hops of most flows (a DNS query, a ping) see only one. A plain
   * array while it fills; once full, packed into an Int32Array (a delay within the window fits),
   * or a Float64Array where one does not. The full array took about 9.4 bytes a value with the
   * room push() leaves; packed, 4. On 6 x 1M, the hops of the busiest flows held 20 MB less.
   */
  private values: number[] | Int32Array | Float64Array | null = null;

  /**
   * @param reservoir values kept for the median. The two direction totals keep 65536; a flow's
   * hop keeps fewer, as a hundred thousand flows would otherwise keep every delay of the file.
   * With 0 it keeps count, min and max only (diff's flows, which need the max for losses), and
   * has no median beyond the first value.
   */
  constructor(private readonly reservoir: number) {}

  add(ns: number): void {
    this.count += 1;
    if (this.count === 1) {
      this.min = ns;
      this.max = ns;
      return;
    }
    // At the second value, min still is the first.
    if (this.reservoir > 0) this.values ??= [this.min];
    if (ns < this.min) this.min = ns;
    if (ns > this.max) this.max = ns;
    let values = this.values;
    if (values === null) return;
    // Only a plain array is short of the reservoir: a packed one is full.
    if (Array.isArray(values) && values.length < this.reservoir) {
      values.push(ns);
      if (values.length === this.reservoir) this.values = packed(values);
      return;
    }
    // Algorithm R: the count-th value replaces a kept one with probability reservoir/count.
    const slot = Math.floor((mix32(this.count) / 4294967296) * this.count);
    if (slot >= this.reservoir) return;
    if (values instanceof Int32Array && ns !== (ns | 0)) this.values = values = Float64Array.from(values);
    values[slot] = ns;
  }

  /** The median (the lower one of an even count); exact while count <= reservoir. */
  get median(): number {
    if (this.count === 0) return NaN;
    if (this.values === null) return this.count === 1 ? this.min : NaN;
    const sorted = Float64Array.from(this.values).sort();
    return sorted[(sorted.length - 1) >> 1]!;
  }

  get exact(): boolean {
    return this.count <= this.reservoir;
  }
}

/** A full reservoir in as few bytes as hold it exactly. */
function packed(values: readonly number[]): Int32Array | Float64Array {
  return values.every((ns) => ns === (ns | 0)) ? Int32Array.from(values) : Float64Array.from(values);
}

/** MurmurHash3's finalizer: consecutive counts become well-spread 32-bit values. */
function mix32(n: number): number {
  let h = n | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
