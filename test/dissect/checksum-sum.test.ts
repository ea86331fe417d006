/** sumWords (32-bit words, double accumulators, chunks) equals a plain RFC 1071 sum, byte by byte. */
import { describe, expect, it } from 'vitest';
import { checksumValid, header20Valid, sumWords } from '../../src/dissect/checksum.js';
import { DecodeContext } from '../../src/dissect/context.js';
import { createTables } from '../../src/dissect/dissector.js';

function reference(bytes: Uint8Array, start: number, end: number): number {
  let sum = 0;
  for (let i = start; i < end; i += 2) sum += (bytes[i]! << 8) | (i + 1 < end ? bytes[i + 1]! : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

function context(bytes: Uint8Array): DecodeContext {
  const ctx = new DecodeContext(createTables(), { vxlanHeuristic: false, maxVxlanDepth: 4, verifyChecksums: true });
  ctx.reset(bytes, false);
  return ctx;
}

describe('sumWords', () => {
  it('equals the 16-bit reference sum for every start and length, on random and extreme bytes', () => {
    let seed = 12345;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
    const backing = new Uint8Array(600);
    for (const fill of ['random', 'ones', 'zeros'] as const) {
      for (let i = 0; i < backing.length; i++) backing[i] = fill === 'random' ? random() : fill === 'ones' ? 0xff : 0;
      for (const offset of [0, 1, 2, 3]) {
        const bytes = backing.subarray(offset, offset + 520); // a view at an odd or even place of its buffer
        const ctx = context(bytes);
        for (let start = 0; start < 8; start++) {
          for (let end = start; end <= 520; end += end < 80 ? 1 : 37) {
            expect(sumWords(ctx, start, end), `${fill} +${offset} [${start}, ${end})`).toBe(reference(bytes, start, end));
          }
        }
      }
    }
  });

  it('stays exact over more than a chunk of 0xff bytes (a 16 MiB record)', () => {
    const bytes = new Uint8Array(16 * 1024 * 1024 + 3).fill(0xff);
    bytes[5] = 0x12;
    const ctx = context(bytes);
    expect(sumWords(ctx, 1, bytes.length)).toBe(reference(bytes, 1, bytes.length));
    expect(sumWords(ctx, 0, bytes.length)).toBe(reference(bytes, 0, bytes.length));
  });

  it('validates a stored checksum', () => {
    const bytes = Uint8Array.from([0x45, 0, 0, 0x1c, 0, 1, 0, 0, 0x40, 0x11, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    const sum = reference(bytes, 0, 20);
    const checksum = ~sum & 0xffff;
    bytes[10] = checksum >>> 8;
    bytes[11] = checksum & 0xff;
    expect(checksumValid(context(bytes), 0, 20, 0)).toBe(true);
    expect(header20Valid(context(bytes), 0)).toBe(true);
    bytes[8] = 0x3f;
    expect(checksumValid(context(bytes), 0, 20, 0)).toBe(false);
    expect(header20Valid(context(bytes), 0)).toBe(false);
  });

  it('header20Valid agrees with checksumValid on random headers at every offset', () => {
    let seed = 99;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
    const backing = new Uint8Array(64);
    for (let k = 0; k < 20000; k++) {
      for (let i = 0; i < backing.length; i++) backing[i] = k % 3 === 0 ? 0xff : k % 7 === 0 ? 0 : random();
      const offset = k % 4;
      const bytes = backing.subarray(offset, offset + 40);
      const ctx = context(bytes);
      // Make about half of them valid: store the right checksum at 10.
      if (k % 2 === 0) {
        bytes[10] = 0;
        bytes[11] = 0;
        const checksum = ~reference(bytes, 0, 20) & 0xffff;
        bytes[10] = checksum >>> 8;
        bytes[11] = checksum & 0xff;
      }
      expect(header20Valid(ctx, 0), `k ${k}`).toBe(checksumValid(ctx, 0, 20, 0));
    }
  });
});
