import type { CaptureLocation, CaptureWarning } from '../capture/errors.js';
import type { InterfaceStatistics } from '../capture/pcapng.js';
import { SightingStore } from './sighting.js';
import type { TimeBase } from './sighting-sources.js';
import type { WholeInterface } from './points.js';

/*
 * The shared memory between trace's main thread and its decode worker (decode-worker.ts): per
 * capture stream, a ring of sighting slots the worker fills in file order and the main thread
 * copies out of in the same order, and a few counters.
 *
 *   written   slots the worker has filled (counts on forever; the slot is count % RING_SLOTS)
 *   consumed  slots the main thread has copied out: the worker may overwrite those
 *   ended     1 once the stream has no more sightings (its end message is then on the port)
 *
 * Counting on forever, rather than keeping two indexes into the ring, makes "full" and "empty"
 * plain differences. A JavaScript number counts slots exactly far beyond any capture, but the
 * counters are Int32 (Atomics.wait needs one): they wrap after 2^31 sightings, and every use
 * takes their difference with `| 0`, which stays right across the wrap.
 */

/** Sightings per stream in flight between the threads: ~2 MB of columns per stream. */
export const RING_SLOTS = 8192;

/** Int32 counters per stream, and their indexes. */
const COUNTERS = 4;
export const WRITTEN = 0;
export const CONSUMED = 1;
export const ENDED = 2;
/**
 * Bumped after every change to WRITTEN or ENDED: the main thread reads it before looking at
 * those and sleeps on it, so that no change between its look and its sleep goes unnoticed.
 */
export const SIGNAL = 3;
/** Counters for all streams, after theirs: */
const SHARED_COUNTERS = 2;
/** Bumped when the main thread frees slots: the worker sleeps on it when every ring is full. */
export const FREED = 0;
/** Set by the main thread when it wants no more sightings (the trace ended or failed). */
export const STOP = 1;
/** Float64 values per stream: bytes of the capture read, for progress, and their indexes. */
const VALUES = 2;
export const BYTES_READ = 0;
/** The time (trace ns) of the stream's first frame, identified or not; NaN before it. */
export const FIRST_FRAME_NS = 1;

/** The shared memory of one trace's streams, seen the same way from both threads. */
export class SightingRings {
  /** Per stream: the worker's side of the ring. */
  readonly rings: SightingStore[];
  /** Per stream COUNTERS Int32s, then the SHARED_COUNTERS. */
  readonly counters: Int32Array;
  readonly values: Float64Array;

  constructor(
    readonly buffer: SharedArrayBuffer,
    readonly streams: number,
  ) {
    const ringBytes = SightingStore.sharedBytes(RING_SLOTS);
    const valuesOffset = ringBytes * streams;
    const countersOffset = valuesOffset + streams * VALUES * Float64Array.BYTES_PER_ELEMENT;
    this.rings = Array.from({ length: streams }, (_, s) => SightingStore.inSharedMemory(buffer, s * ringBytes, RING_SLOTS));
    this.values = new Float64Array(buffer, valuesOffset, streams * VALUES);
    this.counters = new Int32Array(buffer, countersOffset, streams * COUNTERS + SHARED_COUNTERS);
  }

  /** The memory for `streams` rings, with every first-frame time unknown. */
  static allocate(streams: number): SightingRings {
    const bytes = SightingStore.sharedBytes(RING_SLOTS) * streams + streams * VALUES * Float64Array.BYTES_PER_ELEMENT + (streams * COUNTERS + SHARED_COUNTERS) * Int32Array.BYTES_PER_ELEMENT;
    const rings = new SightingRings(new SharedArrayBuffer(bytes), streams);
    for (let s = 0; s < streams; s++) rings.values[s * VALUES + FIRST_FRAME_NS] = NaN;
    return rings;
  }

  /** Index into `counters` of a stream's counter. */
  counter(stream: number, which: number): number {
    return stream * COUNTERS + which;
  }

  /** Index into `counters` of a counter of all streams (FREED, STOP). */
  shared(which: number): number {
    return this.streams * COUNTERS + which;
  }

  /** Adds one to a counter and wakes whoever sleeps on it. */
  bump(index: number): void {
    Atomics.add(this.counters, index, 1);
    Atomics.notify(this.counters, index);
  }

  /** Index into `values` of a stream's value. */
  value(stream: number, which: number): number {
    return stream * VALUES + which;
  }
}

/** What the main thread tells the worker to decode. */
export interface DecodeTask {
  buffer: SharedArrayBuffer;
  /** One per ring, in ring order; a pcapng of one interface is held to it (see WholeInterface). */
  streams: { file: string; point: number; wholeInterface: WholeInterface | undefined }[];
  vxlanPorts: number[] | undefined;
  vxlanHeuristic: boolean | undefined;
  /** The trace's base time (TraceResult.baseNs). */
  base: TimeBase;
  /** Frames each capture's sample read (--sample), for the warning about a late interface. */
  sampleFrames: number;
}

/** The worker's last word on a stream, sent before it sets ENDED. */
export interface StreamEnd {
  stream: number;
  frames: number;
  /** Frames with no Ethernet (or cooked) header to identify them by. */
  unidentified: number;
  /** Frames the snap length cut inside their headers. */
  cut: number;
  warnings: CaptureWarning[];
  /** What the pcapng's statistics blocks said of the stream's interface (SightingSource.statistics). */
  statistics: InterfaceStatistics | null;
  /** The capture could not be read on (a CaptureError, rebuilt by the main thread), or decoding failed. */
  error?: { file?: string; problem?: string; location?: CaptureLocation; message: string };
}
