import { describe, expect, it } from 'vitest';
import { Fifo } from '../../src/correlate/fifo.js';

describe('Fifo', () => {
  it('hands items out in the order they came, through wrapping round and growing while wrapped', () => {
    const fifo = new Fifo<number>();
    const expected: number[] = [];
    let next = 0;
    // Rounds that add more than they take: the ring wraps round many times and grows (from
    // 1,024 places) while its oldest item is in the middle.
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < 50 + (round % 5) * 11; i++) {
        fifo.push(next);
        expected.push(next++);
      }
      for (let i = Math.min(expected.length, 31 + (round % 7) * 9); i > 0; i--) {
        expect(fifo.peek()).toBe(expected[0]);
        expect(fifo.shift()).toBe(expected.shift());
      }
      expect(fifo.length).toBe(expected.length);
    }
    expect(expected.length).toBeGreaterThan(1024);
    while (fifo.length > 0) expect(fifo.shift()).toBe(expected.shift());
    expect(expected).toEqual([]);
    expect(fifo.peek()).toBeUndefined();
  });
});
