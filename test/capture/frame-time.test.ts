import { describe, expect, it } from 'vitest';
import { type Frame, frameNanosecondOfSecond, frameSeconds, TickClock, TickFrame } from '../../src/capture/frame.js';

/* The number accessors of a frame's time agree with its bigint timestampNs, for every clock. */

function random32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    s = (s ^ (s >>> 12)) >>> 0;
    return s;
  };
}

const CLOCKS: [string, TickClock][] = [
  ['pcap µs', new TickClock(1_000_000n, 0n, true)],
  ['pcap ns', new TickClock(1_000_000_000n, 0n, true)],
  ['pcapng µs', new TickClock(1_000_000n)],
  ['pcapng ns', new TickClock(1_000_000_000n)],
  ['pcapng 10^4', new TickClock(10_000n)],
  ['pcapng ms (bigint fallback)', new TickClock(1000n)],
  ['pcapng 1 s (bigint fallback)', new TickClock(1n)],
  ['pcapng 2^-20 s (bigint fallback)', new TickClock(1n << 20n)],
  ['pcapng µs, offset +3600 s', new TickClock(1_000_000n, 3600n)],
  ['pcapng ns, offset -2^40 s', new TickClock(1_000_000_000n, -(1n << 40n))],
  ['pcapng ns, huge offset (bigint fallback)', new TickClock(1_000_000_000n, 1n << 60n)],
];

describe('frameSeconds / frameNanosecondOfSecond', () => {
  for (const [name, clock] of CLOCKS) {
    it(`equal timestampNs split at the second: ${name}`, () => {
      const next = random32(name.length);
      const cases: [number, number][] = [[0, 0], [0xffffffff, 0xffffffff], [0, 999_999], [0, 1_000_000], [0x19c, 0xd0f2e3a1]];
      for (let i = 0; i < 2000; i++) cases.push([i % 3 === 0 ? next() % 0x200 : next(), next()]);
      for (const [high, low] of cases) {
        const frame = new TickFrame(1, high, low, clock, 60, 60, 1, 0, undefined, new Uint8Array(0));
        const ns = frame.timestampNs;
        // Times whose seconds do not fit a double exactly (tick counts near 2^64 of a coarse
        // clock, offsets of 2^60 s) cannot be numbers; any real capture is far from them.
        if (ns / 1_000_000_000n > BigInt(Number.MAX_SAFE_INTEGER) || ns / 1_000_000_000n < BigInt(Number.MIN_SAFE_INTEGER)) continue;
        const seconds = frameSeconds(frame);
        const fraction = frameNanosecondOfSecond(frame);
        expect(Number.isSafeInteger(seconds), `${high} ${low}`).toBe(true);
        expect(fraction >= 0 && fraction < 1e9, `${high} ${low}`).toBe(true);
        expect(BigInt(seconds) * 1_000_000_000n + BigInt(fraction), `${high} ${low}`).toBe(ns);
      }
    });
  }

  it('work for any Frame, before 1970 too', () => {
    for (const ns of [0n, 1n, -1n, -1_000_000_000n, -1_500_000_000n, 1_795_322_249_642_695_123n]) {
      const frame = { timestampNs: ns } as Frame;
      expect(BigInt(frameSeconds(frame)) * 1_000_000_000n + BigInt(frameNanosecondOfSecond(frame))).toBe(ns);
      expect(frameNanosecondOfSecond(frame)).toBeGreaterThanOrEqual(0);
    }
  });
});
