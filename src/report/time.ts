const NS_PER_MS = 1_000_000n;

/** ISO-8601 UTC with all nine fractional digits: 2026-11-22T04:09:13.123456789Z. */
export function isoTime(timestampNs: bigint): string {
  const ms = timestampNs / NS_PER_MS;
  const iso = new Date(Number(ms)).toISOString(); // ...T04:09:13.123Z
  const fraction = (((timestampNs % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n).toString().padStart(9, '0');
  return `${iso.slice(0, 19)}.${fraction}Z`;
}

/** HH:MM:SS.ffffff in UTC, as tcpdump prints (microseconds; nanoseconds with `digits` 9). */
export function clockTime(timestampNs: bigint, digits = 6): string {
  const iso = isoTime(timestampNs);
  return iso.slice(11, 20 + digits);
}
