const NS_PER_MS = 1_000_000n;

// Packets come in bursts within one second: the date-and-time part is remembered for the last
// second formatted, so only the fraction is formatted per packet.
let cachedSecond: bigint | undefined;
let cachedPrefix = '';

/** ISO-8601 UTC with all nine fractional digits: 2026-11-22T04:09:13.123456789Z. */
export function isoTime(timestampNs: bigint): string {
  const fractionNs = ((timestampNs % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n;
  const second = timestampNs - fractionNs;
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedPrefix = new Date(Number(second / NS_PER_MS)).toISOString().slice(0, 19); // ...T04:09:13
  }
  return `${cachedPrefix}.${fractionNs.toString().padStart(9, '0')}Z`;
}

/** HH:MM:SS.ffffff in UTC, as tcpdump prints (microseconds; nanoseconds with `digits` 9). */
export function clockTime(timestampNs: bigint, digits = 6): string {
  const iso = isoTime(timestampNs);
  return iso.slice(11, 20 + digits);
}
