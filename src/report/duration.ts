/** A span of nanoseconds in the unit that suits it: "850 ns", "4.5 µs", "12.3 ms", "2.500000 s". */
export function formatDuration(ns: number): string {
  const sign = ns < 0 ? '\u2212' : '';
  const abs = Math.abs(ns);
  if (abs < 1e3) return `${sign}${Math.round(abs)} ns`;
  if (abs < 1e6) return `${sign}${trim(abs / 1e3)} \u00b5s`;
  if (abs < 1e9) return `${sign}${trim(abs / 1e6)} ms`;
  return `${sign}${(abs / 1e9).toFixed(6)} s`;
}

/** Three significant digits at most, no trailing zeros: 4.5, 12.3, 271. */
function trim(value: number): string {
  const digits = value < 10 ? 2 : value < 100 ? 1 : 0;
  return String(Number(value.toFixed(digits)));
}

/** An offset with its sign always shown: "+1.750000 s", "−3 µs". */
export function formatOffset(ns: number): string {
  return ns >= 0 ? `+${formatDuration(ns)}` : formatDuration(ns);
}
