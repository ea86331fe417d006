import type { DecodeContext } from './context.js';

/**
 * The Internet checksum (RFC 1071): the ones'-complement sum of 16-bit big-endian words. Data
 * whose stored checksum is right sums, checksum included, to 0xffff.
 *
 * Verifying every transport checksum touches every payload byte: it is the most expensive thing
 * the dissector does, so this loop is tuned. It reads 32-bit little-endian words through a
 * DataView (one bounds check per four bytes, unaligned reads allowed) and relies on RFC 1071's
 * byte-order independence: the sum of byte-swapped words is the byte-swapped sum. Whole 32-bit
 * words are added as they are (a 32-bit word is congruent to the sum of its 16-bit halves modulo
 * 0xffff, which is all the folded result depends on) into two double accumulators, eight words
 * an iteration; a double holds such sums exactly for 2^21 words, so longer data is summed in
 * chunks of 1 MiB. Measured on the bench capture: ~0.13 ns/byte, against ~0.22 ns/byte for
 * separate 16-bit halves and ~0.55 ns/byte for byte-wise reads.
 */

/** Bytes summed before folding, so that a double's 53 bits always hold the sum exactly. */
const CHUNK_BYTES = 1 << 20;

/** Ones'-complement sum of frame bytes [start, end), folded to 16 bits, in network byte order. */
export function sumWords(ctx: DecodeContext, start: number, end: number): number {
  const view = ctx.dataView();
  const base = ctx.viewBase;
  let s = 0;
  for (let from = base + start, stop = base + end; from < stop; from += CHUNK_BYTES) {
    s = fold(s + sumChunk(view, from, Math.min(stop, from + CHUNK_BYTES)));
  }
  return ((s & 0xff) << 8) | (s >>> 8);
}

/** The plain sum of the little-endian 32-bit words of view bytes [i, stop) (< 2^50 for ≤ 1 MiB). */
function sumChunk(view: DataView, i: number, stop: number): number {
  let a = 0;
  let b = 0;
  for (const last32 = stop - 31; i < last32; i += 32) {
    a += view.getUint32(i, true) + view.getUint32(i + 4, true) + view.getUint32(i + 8, true) + view.getUint32(i + 12, true);
    b += view.getUint32(i + 16, true) + view.getUint32(i + 20, true) + view.getUint32(i + 24, true) + view.getUint32(i + 28, true);
  }
  for (const last4 = stop - 3; i < last4; i += 4) a += view.getUint32(i, true);
  if (i < stop - 1) {
    a += view.getUint16(i, true);
    i += 2;
  }
  if (i < stop) a += view.getUint8(i); // an odd last byte is padded with a zero byte after it
  return a + b;
}

/** Folds a sum to 16 bits with end-around carry. */
export function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return sum;
}

/** The IPv4 pseudo-header sum (RFC 768/793) that UDP and TCP checksums start from. */
export function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}

/** True when frame bytes [start, end), stored checksum included, plus `initial` sum to 0xffff. */
export function checksumValid(ctx: DecodeContext, start: number, end: number, initial: number): boolean {
  return fold(sumWords(ctx, start, end) + initial) === 0xffff;
}

/**
 * checksumValid(ctx, offset, offset + 20, 0) for the usual option-less IPv4 header: five
 * big-endian 32-bit words, no loop (see sumWords for why whole words may be added).
 */
export function header20Valid(ctx: DecodeContext, offset: number): boolean {
  const view = ctx.dataView();
  const at = ctx.viewBase + offset;
  const sum = view.getUint32(at) + view.getUint32(at + 4) + view.getUint32(at + 8) + view.getUint32(at + 12) + view.getUint32(at + 16);
  return fold(sum) === 0xffff;
}
