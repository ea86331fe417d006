import { UserError } from './errors.js';

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, '\u00b5s': 1e3, ms: 1e6, s: 1e9 };

/** "200ms", "1.5s", "+2.5s", "-300us", "750ns" → nanoseconds. A bare number is seconds. */
export function parseDuration(text: string, option: string): number {
  const match = /^([+-]?\d+(?:\.\d+)?)(ns|us|\u00b5s|ms|s)?$/.exec(text.trim());
  if (match === null) throw new UserError(`${option}: "${text}" is not a duration (say 200ms, 1.5s, -300us)`);
  return Math.round(Number(match[1]) * UNIT_NS[match[2] ?? 's']!);
}

/** `--clock-offset node2=+2.5s`, repeatable: node → offset in ns. */
export function parseClockOffsets(values: readonly string[]): Map<string, number> {
  const offsets = new Map<string, number>();
  for (const value of values) {
    const equals = value.indexOf('=');
    if (equals <= 0) throw new UserError(`--clock-offset takes NODE=OFFSET (say node2=+2.5s), not "${value}"`);
    offsets.set(value.slice(0, equals), parseDuration(value.slice(equals + 1), '--clock-offset'));
  }
  return offsets;
}
