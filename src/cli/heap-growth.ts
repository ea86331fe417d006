import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the heap grow past what the last full collection kept, for trace and diff.
 *
 * Their live heap is large (every flow, and the packets inside the matching window) and they
 * allocate fast, and V8 answers a fast allocator by letting the heap grow up to 4× its live
 * size before collecting again. On six 1M-packet captures that put trace's peak RSS at 580 MB
 * (text) and 835 MB (JSON) over a live heap of about 200 MB. Growing by 30% instead gave 420 and
 * 443 MB (50%: 443 and 486 MB), for up to 15% more time (bench/generate-path.mjs captures,
 * 2026-11-30). The flag is read at every collection, so setting it when the command starts is
 * enough.
 */
const HEAP_GROWING_PERCENT = 30;

export function limitHeapGrowth(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
