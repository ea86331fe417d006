import { describe, expect, it } from 'vitest';
import { LatencySample } from '../../src/correlate/latency.js';

/** The delays 0, 1, ..., n-1 in the given order. */
function delays(n: number, order: 'rising' | 'falling' | 'interleaved'): number[] {
  const values = Array.from({ length: n }, (_, i) => i);
  if (order === 'falling') values.reverse();
  // Odd then even: the two halves of the distribution arrive one after the other.
  if (order === 'interleaved') values.sort((a, b) => (a % 2) - (b % 2) || a - b);
  return values;
}

describe('LatencySample', () => {
  it('gives the exact median, min and max while the values fit the reservoir', () => {
    const sample = new LatencySample(1024);
    for (const ns of [40, 10, 30, 20, 50]) sample.add(ns);
    expect([sample.median, sample.min, sample.max, sample.count, sample.exact]).toEqual([30, 10, 50, 5, true]);
    sample.add(60); // even count: the lower middle value
    expect(sample.median).toBe(30);
  });

  it('with no reservoir keeps count, min and max only, and has no median beyond one value', () => {
    const sample = new LatencySample(0);
    sample.add(20);
    expect([sample.median, sample.min, sample.max, sample.count]).toEqual([20, 20, 20, 1]);
    for (const ns of [50, 10, 30]) sample.add(ns);
    expect([sample.min, sample.max, sample.count, sample.exact]).toEqual([10, 50, 4, false]);
    expect(sample.median).toBeNaN();
  });

  it('keeps one value without an array, and says when the median becomes a sample', () => {
    const sample = new LatencySample(4);
    sample.add(7);
    expect([sample.median, sample.exact]).toEqual([7, true]);
    for (const ns of [1, 2, 3]) sample.add(ns);
    expect(sample.exact).toBe(true);
    sample.add(4);
    expect(sample.exact).toBe(false);
    expect([sample.min, sample.max, sample.count]).toEqual([1, 7, 5]);
  });

  it('keeps delays beyond 32 bits exactly, before and after the reservoir is full', () => {
    // Filled with delays of 5 s and more (a --window of 10 s): none fits an Int32.
    const long = new LatencySample(3);
    for (const ns of [5e9, 7e9, 6e9]) long.add(ns);
    expect(long.median).toBe(6e9);
    // Filled with small delays, then only 2^33 ns ones: in the end they replace every kept value.
    const mixed = new LatencySample(3);
    for (const ns of [1, 2, 3]) mixed.add(ns);
    for (let i = 0; i < 2000; i++) mixed.add(2 ** 33);
    expect([mixed.median, mixed.max, mixed.min, mixed.count]).toEqual([2 ** 33, 2 ** 33, 1, 2003]);
    // A reservoir of one keeps one value, not all of them.
    const one = new LatencySample(1);
    for (const ns of [10, 20, 30, 40]) one.add(ns);
    expect([10, 20, 30, 40]).toContain(one.median);
  });

  it.each(['rising', 'falling', 'interleaved'] as const)('estimates the median of 200k %s delays from 1024 kept', (order) => {
    const n = 200_000;
    const sample = new LatencySample(1024);
    for (const ns of delays(n, order)) sample.add(ns);
    expect([sample.min, sample.max, sample.exact]).toEqual([0, n - 1, false]);
    // A uniform sample of 1024 puts the median within about 1.6% of the ranks (one standard
    // error); 5% is three of them. A biased replacement rule (always the same slots, or only
    // early ones) lands near the first values' median instead: far outside.
    expect(Math.abs(sample.median - n / 2)).toBeLessThan(0.05 * n);
  });

  it('samples the same way every run', () => {
    const medians = [1, 2].map(() => {
      const sample = new LatencySample(256);
      for (const ns of delays(50_000, 'interleaved')) sample.add(ns);
      return sample.median;
    });
    expect(medians[0]).toBe(medians[1]);
  });
});
