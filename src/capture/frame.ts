/**
 * One captured frame, as every frame source (classic pcap, pcapng, live capture) delivers it.
 *
 * Time is kept as integer nanoseconds since the Unix epoch. Floats lose nanoseconds at today's
 * epoch values (2^53 ns is only 104 days), and matching a packet across capture points needs
 * every digit. Building a bigint costs more than decoding a header, so a source stores the raw
 * time parts and the bigint is made the first time someone asks for it.
 */
export interface Frame {
  /** 1-based position of the frame in its capture (Wireshark's frame.number). */
  readonly index: number;
  /** Capture time in nanoseconds since 1970-01-01T00:00:00Z. */
  readonly timestampNs: bigint;
  /** Bytes stored in the capture (may be cut by the snap length). */
  readonly capturedLength: number;
  /** Bytes the frame had on the wire. */
  readonly originalLength: number;
  /** LINKTYPE_* value of the interface the frame was captured on (see linktypes.ts). */
  readonly linkType: number;
  /** Interface number within the capture: 0 for classic pcap, the IDB index for pcapng. */
  readonly interfaceId: number;
  /** Interface name where the capture records one (pcapng if_name, live capture). */
  readonly interfaceName?: string;
  /**
   * The captured bytes. For speed this is a view into the reader's buffer: it stays valid until
   * the reader reads past the frame. Copy it (`Uint8Array.from(frame.bytes)`) to keep it longer.
   */
  readonly bytes: Uint8Array;
}

/** A frame whose timestamp is a count of `unitsPerSecond` ticks, turned into nanoseconds lazily. */
export class TickFrame implements Frame {
  private cachedNs: bigint | undefined;

  constructor(
    readonly index: number,
    /** Ticks since the epoch, split in two 32-bit halves so that no precision is lost. */
    private readonly ticksHigh: number,
    private readonly ticksLow: number,
    private readonly clock: TickClock,
    readonly capturedLength: number,
    readonly originalLength: number,
    readonly linkType: number,
    readonly interfaceId: number,
    readonly interfaceName: string | undefined,
    readonly bytes: Uint8Array,
  ) {}

  get timestampNs(): bigint {
    if (this.cachedNs === undefined) {
      this.cachedNs = this.clock.toNanoseconds(this.ticksHigh, this.ticksLow);
    }
    return this.cachedNs;
  }

  /**
   * Whole seconds of timestampNs (rounded down), as a number: with nanosecondOfSecond the same
   * instant as timestampNs, for consumers that compare or keep many times and would otherwise
   * build a bigint per frame. Exact whenever the seconds are a safe integer (any real capture).
   * See frameSeconds() for any Frame.
   */
  get epochSeconds(): number {
    return this.clock.seconds(this.ticksHigh, this.ticksLow);
  }

  /** Nanoseconds past epochSeconds: 0 … 999,999,999. */
  get nanosecondOfSecond(): number {
    return this.clock.nanosecondOfSecond(this.ticksHigh, this.ticksLow);
  }

  /** Plain properties for console.log and JSON-minded callers. */
  toJSON(): Record<string, unknown> {
    return {
      index: this.index,
      timestampNs: this.timestampNs.toString(),
      capturedLength: this.capturedLength,
      originalLength: this.originalLength,
      linkType: this.linkType,
      interfaceId: this.interfaceId,
      interfaceName: this.interfaceName,
    };
  }
}

/**
 * How a source counts time: ticks per second plus an offset in whole seconds (pcapng
 * if_tsoffset). Classic pcap stores seconds and a fraction; it is expressed here as
 * high = seconds, low = fraction, with `splitSeconds` set.
 */
export class TickClock {
  private readonly nsPerTick: bigint | undefined;
  /**
   * The same scale as numbers, for seconds() and nanosecondOfSecond(): set only where number
   * arithmetic is exact for every 64-bit tick count (a whole number of nanoseconds per tick,
   * at least 10^4 ticks a second or split seconds, an offset that is a safe integer).
   * Otherwise those fall back to the bigint.
   */
  private readonly fastNsPerTick: number;
  private readonly fastTicksPerSecond: number;
  private readonly fastOffsetSeconds: number;

  constructor(
    /** Ticks per second: 10^6 for µs pcap, 10^9 for ns pcap, if_tsresol for pcapng. */
    readonly ticksPerSecond: bigint,
    /** Seconds added to every timestamp (pcapng if_tsoffset). */
    readonly offsetSeconds: bigint = 0n,
    /** True when high is whole seconds and low the fraction (classic pcap). */
    readonly splitSeconds = false,
  ) {
    // Exact integer scaling where the resolution divides a second in nanoseconds evenly.
    this.nsPerTick = 1_000_000_000n % ticksPerSecond === 0n ? 1_000_000_000n / ticksPerSecond : undefined;
    const fast =
      this.nsPerTick !== undefined &&
      (splitSeconds || ticksPerSecond >= 10_000n) &&
      offsetSeconds >= BigInt(Number.MIN_SAFE_INTEGER) / 2n &&
      offsetSeconds <= BigInt(Number.MAX_SAFE_INTEGER) / 2n;
    this.fastNsPerTick = fast ? Number(this.nsPerTick) : 0;
    this.fastTicksPerSecond = fast ? Number(ticksPerSecond) : 0;
    this.fastOffsetSeconds = fast ? Number(offsetSeconds) : 0;
  }

  /** Whole seconds of toNanoseconds(high, low), rounded down, as a number. */
  seconds(high: number, low: number): number {
    const nsPerTick = this.fastNsPerTick;
    if (nsPerTick === 0) return Number(floorDivide(this.toNanoseconds(high, low), 1_000_000_000n));
    if (this.splitSeconds) {
      // A fraction of a second or more (a broken file, warned about by the reader) carries over.
      const fractionNs = low * nsPerTick; // < 2^42: exact
      return this.fastOffsetSeconds + high + (fractionNs < 1e9 ? 0 : Math.floor(fractionNs / 1e9));
    }
    // (high · 2^32 + low) / ticksPerSecond in steps that stay below 2^53.
    const tps = this.fastTicksPerSecond;
    const q1 = Math.floor(high / tps);
    const x = (high - q1 * tps) * 65536 + (low >>> 16);
    const q2 = Math.floor(x / tps);
    const y = (x - q2 * tps) * 65536 + (low & 0xffff);
    return this.fastOffsetSeconds + q1 * 4294967296 + q2 * 65536 + Math.floor(y / tps);
  }

  /** Nanoseconds of toNanoseconds(high, low) past seconds(high, low): 0 … 999,999,999. */
  nanosecondOfSecond(high: number, low: number): number {
    const nsPerTick = this.fastNsPerTick;
    if (nsPerTick === 0) return Number(floorModulo(this.toNanoseconds(high, low), 1_000_000_000n));
    if (this.splitSeconds) {
      const fractionNs = low * nsPerTick;
      return fractionNs < 1e9 ? fractionNs : fractionNs % 1e9;
    }
    const tps = this.fastTicksPerSecond;
    const x = (high % tps) * 65536 + (low >>> 16);
    const y = (x % tps) * 65536 + (low & 0xffff);
    return (y % tps) * nsPerTick;
  }

  toNanoseconds(high: number, low: number): bigint {
    const offsetNs = this.offsetSeconds * 1_000_000_000n;
    if (this.splitSeconds) {
      return offsetNs + BigInt(high) * 1_000_000_000n + this.fractionToNs(BigInt(low));
    }
    const ticks = (BigInt(high) << 32n) | BigInt(low);
    if (this.nsPerTick !== undefined) return offsetNs + ticks * this.nsPerTick;
    // Finer than a nanosecond, or a power of two: whole seconds first, then the rounded-down fraction.
    const seconds = ticks / this.ticksPerSecond;
    const fraction = ticks % this.ticksPerSecond;
    return offsetNs + seconds * 1_000_000_000n + this.fractionToNs(fraction);
  }

  private fractionToNs(fractionTicks: bigint): bigint {
    if (this.nsPerTick !== undefined) return fractionTicks * this.nsPerTick;
    return (fractionTicks * 1_000_000_000n) / this.ticksPerSecond;
  }
}

/** Whole seconds of frame.timestampNs (rounded down), as a number; no bigint for reader frames. */
export function frameSeconds(frame: Frame): number {
  return frame instanceof TickFrame ? frame.epochSeconds : Number(floorDivide(frame.timestampNs, 1_000_000_000n));
}

/** Nanoseconds of frame.timestampNs past frameSeconds(frame): 0 … 999,999,999. */
export function frameNanosecondOfSecond(frame: Frame): number {
  return frame instanceof TickFrame ? frame.nanosecondOfSecond : Number(floorModulo(frame.timestampNs, 1_000_000_000n));
}

function floorModulo(a: bigint, n: bigint): bigint {
  const m = a % n;
  return m < 0n ? m + n : m;
}

function floorDivide(a: bigint, n: bigint): bigint {
  return (a - floorModulo(a, n)) / n;
}
