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
