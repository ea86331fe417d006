import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the heap grow past what the last full collection kept, for trace.
 *
 * Their live heap is large (every flow, and the packets inside the matching window) and they
 * allocate fast, and V8 answers a fast allocator by letting the heap grow up to 4× its live
 * size before collecting again. How much that matters depends on how much garbage a run makes.
 * On six 1M-packet captures (bench/generate-path.mjs, 2 cores, 2026-11-30):
 *
 *   trace (text)    V8's default: 9.3-9.7 s, 413-470 MB peak RSS; 50%: 9.9 s, 430 MB;
 *                   30%: 12.0 s, 430 MB
 *   trace --format json, which writes every packet: default 26.2 s, 698 MB; 45%: 26.6 s, 465 MB;
 *                   30%: 27.8 s, 457 MB
 *   diff            default 5.0 s, 311 MB; 30%: 5.5 s, 291 MB
 *
 * Later that day, with trace faster, the JSON trace at 30% peaked at 460-494 MB (bench runs
 * included), too near the limit; at 20% it took 24.0-25.2 s against 23.3-24.1 s, with 432-435 MB.
 *
 * So the JSON trace grows by 20%, the others by 50%, which keeps every trace under 500 MB with
 * room for the run-to-run variance of the collector's timing. The flag is read at every
 * collection, so setting it when the command starts is enough.
 *
 * diff keeps V8's default. Since its notes and flows take less memory, the limit only cost it
 * time: on two 1M-packet captures (2026-12-01), run in turn six times each, 2.25-2.39 s at 50%
 * against 2.12-2.29 s by default, with 245-250 MB peak RSS either way.
 */
const HEAP_GROWING_PERCENT = { writesEveryPacket: 20, otherwise: 50 };

export function limitHeapGrowth(writesEveryPacket: boolean): void {
  const percent = writesEveryPacket ? HEAP_GROWING_PERCENT.writesEveryPacket : HEAP_GROWING_PERCENT.otherwise;
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}
