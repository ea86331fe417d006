/**
 * A 52-bit hash of a packet's invariant fields, built field by field without allocating.
 *
 * Two independent 32-bit FNV-1a style lanes, kept as 26 bits each and joined into one number
 * below 2^52: a plain JavaScript number, exact, and a cheap Map key. With 32 bits alone, a
 * window of 20,000 packets in flight would hold a colliding pair about 5% of the time; with 52
 * bits that is one in ten million.
 */
export class IdentityHash {
  private a = 0;
  private b = 0;

  reset(): void {
    this.a = 0x811c9dc5 | 0;
    this.b = 0x9747b28c | 0;
  }

  /** Mixes in one 32-bit integer. */
  add(value: number): void {
    this.a = Math.imul(this.a ^ value, 0x01000193);
    this.b = Math.imul(this.b ^ value, 0x5bd1e995);
    this.b ^= this.b >>> 15;
  }

  /** Mixes in bytes [start, end) four at a time. */
  addBytes(bytes: Uint8Array, start: number, end: number): void {
    let i = start;
    for (; i + 4 <= end; i += 4) {
      this.add((bytes[i]! << 24) | (bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) | bytes[i + 3]!);
    }
    for (; i < end; i++) this.add(bytes[i]! | 0x100);
    this.add(end - start);
  }

  value(): number {
    // Final avalanche so that small input differences reach the kept bits.
    let a = this.a;
    a = Math.imul(a ^ (a >>> 16), 0x85ebca6b);
    a ^= a >>> 13;
    let b = this.b;
    b = Math.imul(b ^ (b >>> 16), 0xc2b2ae35);
    b ^= b >>> 16;
    return (a >>> 6) * 0x4000000 + (b >>> 6);
  }
}

/**
 * A hash's low 30 bits, for keying a KeyTable or a Map. The 52-bit value is a heap number, and
 * a Map keyed by heap numbers boxes every key it is asked for; 30 bits are a small integer.
 * Different hashes may share a key: whoever uses one compares the whole hash too. (`&` takes
 * the value modulo 2^32, exactly, then keeps its low 30 bits.)
 */
export function smallKey(hash: number): number {
  return hash & 0x3fffffff;
}
