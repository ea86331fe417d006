import { describe, expect, it } from 'vitest';
import { KeyTable } from '../../src/correlate/key-table.js';

/** A repeatable stream of numbers in [0, 1) (mulberry32). */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('KeyTable', () => {
  it('answers like a Map through inserts, replacements and deletes, when keys crowd one end of the table and wrap round', () => {
    const next = random(7);
    for (const homes of [4, 64]) {
      const table = new KeyTable<string>(16);
      const map = new Map<number, string>();
      // Keys whose low bits fall on a few homes near the end of the table: long runs that
      // wrap round to its start, and deletes in the middle of them.
      const keyFor = () => (Math.floor(next() * 1000) << 10) | (1023 - Math.floor(next() * homes));
      for (let op = 0; op < 20_000; op++) {
        const key = keyFor();
        if (next() < 0.55) {
          table.set(key, `v${op}`);
          map.set(key, `v${op}`);
        } else {
          table.delete(key);
          map.delete(key);
        }
        if (table.get(key) !== map.get(key)) expect.fail(`operation ${op}: key ${key} gives ${table.get(key)}, not ${map.get(key)}`);
        if (op % 997 === 0) {
          expect(table.size).toBe(map.size);
          expect([...map.keys()].map((k) => table.get(k))).toEqual([...map.values()]);
        }
      }
      for (const k of [...map.keys()]) table.delete(k);
      expect(table.size).toBe(0);
      expect(Array.from({ length: 1000 }, () => table.get(keyFor())).filter((v) => v !== undefined)).toEqual([]);
    }
  });

  it('takes the largest key smallKey gives, and 0', () => {
    const table = new KeyTable<number>();
    table.set(0x3fffffff, 1);
    table.set(0, 2);
    expect([table.get(0x3fffffff), table.get(0), table.get(1)]).toEqual([1, 2, undefined]);
  });
});
