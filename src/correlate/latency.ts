/**
 * Delays of one hop: count, min, max exactly; the median exactly up to RESERVOIR values and from
 * a uniform sample of them beyond (Algorithm R, with a fixed seed so that runs repeat).
 */
const RESERVOIR = 65536;

export class LatencySample {
  count = 0;
  min = Infinity;
  max = -Infinity;
  /** Made at the second value: most hops of most flows (a DNS query, a ping) see only one. */
  private values: number[] | null = null;
  private seed = 0x2545f491;

  add(ns: number): void {
    this.count += 1;
    if (this.count === 1) {
      this.min = ns;
      this.max = ns;
      return;
    }
    this.values ??= [this.min];
    if (ns < this.min) this.min = ns;
    if (ns > this.max) this.max = ns;
    if (this.values.length < RESERVOIR) {
      this.values.push(ns);
      return;
    }
    const slot = this.random() % this.count;
    if (slot < RESERVOIR) this.values[slot] = ns;
  }

  /** The median (the lower one of an even count); exact while count <= 65536. */
  get median(): number {
    if (this.count === 0) return NaN;
    if (this.values === null) return this.min;
    const sorted = Float64Array.from(this.values).sort();
    return sorted[(sorted.length - 1) >> 1]!;
  }

  get exact(): boolean {
    return this.count <= RESERVOIR;
  }

  private random(): number {
    // xorshift32
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x >>> 0;
    return this.seed;
  }
}
