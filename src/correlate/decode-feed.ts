import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { receiveMessageOnPort } from 'node:worker_threads';
import { CaptureError, type CaptureWarning } from '../capture/errors.js';
import type { InterfaceStatistics } from '../capture/pcapng.js';
import type { SightingStore } from './sighting.js';
import { NONE } from './sighting.js';
import { BYTES_READ, CONSUMED, type DecodeTask, ENDED, FIRST_FRAME_NS, FREED, RING_SLOTS, SIGNAL, SightingRings, STOP, type StreamEnd, WRITTEN } from './sighting-rings.js';
import type { SightingSource } from './sighting-sources.js';
import { TraceError } from './trace-error.js';
import { hasStarted, spawnWorker, type StartedWorker } from '../io/worker-start.js';

/*
 * The main thread's side of trace's decode worker (decode-worker.ts): starting it, and one
 * SightingSource per capture stream that copies the worker's sightings out of the shared rings.
 */

/** Captures smaller than this together are read on the main thread (a worker costs ~50 ms to start). */
const DEFAULT_MIN_BYTES = 32 * 1024 * 1024;
/** How long a worker may take to start before the captures are read on the main thread instead. */
const START_TIMEOUT_MS = 10_000;
/** A worker that neither delivers nor reads for this long has died (say, out of memory). */
const SILENCE_TIMEOUT_MS = 60_000;
/** Slots copied out before the worker is told it may refill them. */
const RELEASE_EVERY = 256;
/** Slots freed before a sleeping worker is woken to refill them: a quarter ring. */
const WAKE_EVERY = RING_SLOTS / 4;

const WORKER_URL = new URL('./decode-worker.js', import.meta.url);

/**
 * Whether captures of `bytes` in all are worth a worker: on two cores or more, from the built
 * JavaScript (under a TypeScript test runner there is no worker file to start), and above
 * VXDUMP_PARALLEL_MIN_BYTES (default 32 MB; the tests set 0 to run the worker on small captures).
 */
export function workerWorthIt(bytes: number): boolean {
  const minBytes = Number(process.env.VXDUMP_PARALLEL_MIN_BYTES ?? DEFAULT_MIN_BYTES);
  return bytes >= minBytes && availableParallelism() >= 2 && existsSync(fileURLToPath(WORKER_URL));
}

/**
 * A decode worker and the sources it fills. It is spawned before trace samples the captures, as
 * loading its modules takes ~100 ms that the sampling can hide, and given its streams as soon as
 * the capture points are known (begin), usually before the samples are read.
 */
export class DecodeFeed {
  private readonly ends = new Map<number, StreamEnd>();
  /** Set by begin(). */
  rings!: SightingRings;
  readonly sources: WorkerSource[] = [];

  private constructor(private readonly thread: StartedWorker) {}

  /** Starts a worker, undefined when that fails (the caller then reads the captures itself). */
  static spawn(): DecodeFeed | undefined {
    const thread = spawnWorker(WORKER_URL);
    return thread === undefined ? undefined : new DecodeFeed(thread);
  }

  /**
   * Has the worker decode `streams` into `store`'s slots, with sources in `sources`. The task
   * waits in the worker's port while its modules still load: the caller goes on meanwhile, and
   * asks started() before it reads the sources. Whoever spawned the worker stops it either way.
   */
  begin(streams: DecodeTask['streams'], store: SightingStore, options: Omit<DecodeTask, 'buffer' | 'streams'>): void {
    this.rings = SightingRings.allocate(streams.length);
    const task: DecodeTask = { ...options, buffer: this.rings.buffer, streams };
    this.thread.worker.postMessage(task);
    streams.forEach(({ file }, index) => this.sources.push(new WorkerSource(this, index, file, store)));
  }

  /** Whether the worker runs, waiting for it if need be; false if it did not start (it is then terminated, and its sources are not to be read). */
  started(): boolean {
    return hasStarted(this.thread, START_TIMEOUT_MS);
  }

  /** The worker's end message for a stream, taking the port's messages in order until it is there. */
  endOf(stream: number): StreamEnd {
    for (;;) {
      const known = this.ends.get(stream);
      if (known !== undefined) return known;
      const received = receiveMessageOnPort(this.thread.port);
      if (received === undefined) throw new TraceError('the decode worker ended a stream without saying how');
      const end = received.message as StreamEnd;
      this.ends.set(end.stream, end);
    }
  }

  /** No more sightings wanted: the worker closes its captures and ends (or never begins). */
  stop(): void {
    this.thread.port.close();
    if (this.rings === undefined) {
      void this.thread.worker.terminate();
      return;
    }
    Atomics.store(this.rings.counters, this.rings.shared(STOP), 1);
    this.rings.bump(this.rings.shared(FREED));
  }
}

/** One capture stream's sightings, as the worker decodes them. */
class WorkerSource implements SightingSource {
  frames = 0;
  unidentified = 0;
  cut = 0;
  warnings: CaptureWarning[] = [];
  statistics: InterfaceStatistics | null = null;
  /** Slots copied out so far, and those the worker has filled beyond them. */
  private consumed = 0;
  private available = 0;
  private ended = false;
  /** `consumed` when the worker was last told of it, and last woken. */
  private releasedAt = 0;
  private wokenAt = 0;
  /** Slots of the store copied in and not yet handed out by next(). */
  private runNext = 0;
  private runLeft = 0;
  private readonly ring: SightingStore;

  constructor(
    private readonly feed: DecodeFeed,
    private readonly index: number,
    private readonly file: string,
    private readonly store: SightingStore,
  ) {
    this.ring = feed.rings.rings[index]!;
  }

  get position(): number {
    return this.feed.rings.values[this.feed.rings.value(this.index, BYTES_READ)]!;
  }

  get firstFrameNs(): number {
    return this.feed.rings.values[this.feed.rings.value(this.index, FIRST_FRAME_NS)]!;
  }

  next(): number {
    if (this.runLeft === 0 && !this.copyRun()) return NONE;
    this.runLeft -= 1;
    return this.runNext++;
  }

  /**
   * Copies the next run of sightings out of the ring into consecutive slots of the store, a
   * column at a time: slot by slot, the copy touched each of the 31 columns once per sighting,
   * each a cache line the worker's core had just written. False once the stream has ended.
   */
  private copyRun(): boolean {
    if (this.available === 0 && !this.refill()) return false;
    const from = this.consumed % RING_SLOTS;
    const count = Math.min(this.available, RING_SLOTS - from, this.store.runRoom());
    this.runNext = this.store.copyRunFrom(this.ring, from, count);
    this.runLeft = count;
    this.consumed += count;
    this.available -= count;
    if (this.consumed - this.releasedAt >= RELEASE_EVERY) this.release();
    return true;
  }

  close(): void {}

  /**
   * Tells the worker which slots it may fill again. Waking it costs both threads a system call,
   * so a sleeping worker is woken for a good part of a ring only, or when this stream runs dry.
   */
  private release(wake = false): void {
    const { rings } = this.feed;
    Atomics.store(rings.counters, rings.counter(this.index, CONSUMED), this.consumed | 0);
    this.releasedAt = this.consumed;
    if (wake || this.consumed - this.wokenAt >= WAKE_EVERY) {
      this.wokenAt = this.consumed;
      rings.bump(rings.shared(FREED));
    }
  }

  /** Waits for the worker to fill slots; false when the stream has ended instead. */
  private refill(): boolean {
    if (this.ended) return false;
    // The worker may be waiting for room in this very ring.
    this.release(true);
    const { rings } = this.feed;
    const counters = rings.counters;
    const signal = rings.counter(this.index, SIGNAL);
    let silentSince = Date.now();
    let bytesRead = this.position;
    for (;;) {
      const seen = Atomics.load(counters, signal);
      // ENDED before WRITTEN: the worker publishes its last slots before it ends the stream.
      const ended = Atomics.load(counters, rings.counter(this.index, ENDED)) === 1;
      const available = (Atomics.load(counters, rings.counter(this.index, WRITTEN)) - this.consumed) | 0;
      if (available > 0) {
        this.available = available;
        return true;
      }
      if (ended) {
        this.end();
        return false;
      }
      if (Atomics.wait(counters, signal, seen, 1000) === 'timed-out') {
        if (this.position !== bytesRead) {
          bytesRead = this.position;
          silentSince = Date.now();
        } else if (Date.now() - silentSince > SILENCE_TIMEOUT_MS) {
          throw new TraceError(`${this.file}: the decode worker stopped answering`);
        }
      }
    }
  }

  /** Takes the worker's counts and warnings, and throws the error that ended the stream if any. */
  private end(): void {
    this.ended = true;
    const end = this.feed.endOf(this.index);
    this.frames = end.frames;
    this.unidentified = end.unidentified;
    this.cut = end.cut;
    this.warnings = end.warnings;
    this.statistics = end.statistics;
    const error = end.error;
    if (error === undefined) return;
    if (error.file !== undefined && error.problem !== undefined) throw new CaptureError(error.file, error.problem, error.location);
    throw new TraceError(`${this.file}: ${error.message}`);
  }
}
