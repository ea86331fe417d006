import { describe, expect, it } from 'vitest';
import { BLOCK_SLOTS, SlotBlocks } from '../../src/correlate/slot-blocks.js';

describe('SlotBlocks: the sighting store\'s slots', () => {
  it('hands out consecutive runs, never a live slot twice, and reuses a block once all of it is back', () => {
    const grownTo: number[] = [];
    const blocks = new SlotBlocks(2 * BLOCK_SLOTS, (capacity) => grownTo.push(capacity));
    const live = new Set<number>();
    const inFlight: number[] = [];
    // A stream of runs of 1 to 40 slots; each slot lives for 1,000 to 1,500 slots taken after it,
    // released out of order (as journeys end), like a trace window.
    let taken = 0;
    let seed = 12345;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const due: [number, number][] = [];
    for (let round = 0; round < 5000; round++) {
      const count = Math.min(1 + Math.floor(random() * 40), blocks.room());
      const first = blocks.take(count);
      for (let slot = first; slot < first + count; slot++) {
        expect(live.has(slot)).toBe(false);
        live.add(slot);
        due.push([taken + 1000 + Math.floor(random() * 500), slot]);
        taken += 1;
      }
      expect(first + count).toBeLessThanOrEqual(blocks.capacity);
      // Runs stay inside one block.
      expect(Math.floor(first / BLOCK_SLOTS)).toBe(Math.floor((first + count - 1) / BLOCK_SLOTS));
      due.sort((a, b) => a[0] - b[0]);
      while (due.length > 0 && due[0]![0] <= taken) {
        const [, slot] = due.shift()!;
        blocks.release(slot);
        live.delete(slot);
      }
      inFlight.push(live.size);
      expect(blocks.inUse).toBe(live.size);
    }
    // About 1,250 slots in flight, 100,000 taken: the store stays a few blocks above what is in flight.
    expect(taken).toBeGreaterThan(90_000);
    expect(blocks.capacity).toBeLessThanOrEqual(4 * Math.max(...inFlight));
    expect(grownTo[0]).toBe(2 * BLOCK_SLOTS);
  });
});
