import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { receiveMessageOnPort } from 'node:worker_threads';
import type { DecidedJourney } from '../correlate/flows.js';
import { SightingStore } from '../correlate/sighting.js';
import { hasStarted, spawnWorker, type StartedWorker } from '../io/worker-start.js';
import { type LineOutput, OutputError } from './output.js';

/*
 * `vxdump trace --format json` with its packets written by a thread of their own
 * (trace-json-worker.ts). Writing a packet's JSON costs about as much as matching it; on the
 * main thread the two came one after the other. Here the main thread copies each decided
 * packet's sightings and a small record of the rest into shared memory, and the writer thread
 * writes them with the same TraceJsonWriter, byte for byte what the main thread would have.
 *
 * The shared memory holds two rings the main thread fills and the writer empties, in order:
 *
 *   sightings  RING_SLOTS slots of a SightingStore: a packet's sightings, one after the other
 *   records    RECORD_WORDS doubles: per packet its ids, what became of it and its hop masks
 *
 * and Int32 counters (see below) that count on forever, as in sighting-rings.ts: "full" and
 * "empty" are differences taken with `| 0`, right across the wrap at 2^31.
 *
 * A packet's rare parts go by message, in order with the records: its ICMP error (the port,
 * read with receiveMessageOnPort when the record says there is one).
 */

/** Sightings in flight between the threads (~4 MB of columns). */
export const RING_SLOTS = 16384;
/** Doubles of packet records in flight (a power of two: positions wrap with a mask). */
export const RECORD_WORDS = 65536;

/** The counters, and their indexes. */
export const SLOTS_WRITTEN = 0;
export const SLOTS_READ = 1;
export const WORDS_WRITTEN = 2;
export const WORDS_READ = 3;
/** Bumped by the main thread after publishing records, or DONE: the writer sleeps on it. */
export const WRITTEN_SIGNAL = 4;
/** Bumped by the writer after taking records, and once FINISHED: the main thread sleeps on it. */
export const READ_SIGNAL = 5;
/** 1: no more records will come (set by the main thread). */
export const DONE = 6;
/** 1: the writer has written every record out (or failed: FAILED is 1 too, and the port says why). */
export const FINISHED = 7;
export const FAILED = 8;
const COUNTERS = 9;

/**
 * A packet's record, in doubles: these fields, then one hop mask per sighting after the first
 * (DecidedJourney.differing), then the missed points. A point pair is NO_HOP where there is none.
 */
export const Record = {
  JOURNEY: 0,
  FLOW: 1,
  SIGHTINGS: 2,
  /** SLOTS_WRITTEN when its first sighting was copied: the others follow it in the ring. */
  FIRST_SLOT: 3,
  LOST: 4,
  FRAGMENTED: 6,
  RESEGMENTED: 8,
  EXPIRED: 10,
  QUOTES: 12,
  /** 1: its ICMP error is the next message on the port. */
  ICMP_ERROR: 13,
  MISSED: 14,
  HEADER: 15,
} as const;
export const NO_HOP = -1;

/** Where a record holds the hop mask before sighting i (i >= 1), and the i-th missed point. */
export function differingWord(i: number): number {
  return Record.HEADER + i - 1;
}
export function missedWord(sightings: number, i: number): number {
  return Record.HEADER + sightings - 1 + i;
}
/** A record's length in doubles. */
export function recordWords(sightings: number, missed: number): number {
  return missedWord(sightings, missed);
}

/** The memory of the two rings and the counters, seen the same way from both threads. */
export class JsonRings {
  readonly sightings: SightingStore;
  readonly records: Float64Array;
  readonly counters: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    const ringBytes = SightingStore.sharedBytes(RING_SLOTS);
    this.sightings = SightingStore.inSharedMemory(buffer, 0, RING_SLOTS);
    this.records = new Float64Array(buffer, ringBytes, RECORD_WORDS);
    this.counters = new Int32Array(buffer, ringBytes + RECORD_WORDS * Float64Array.BYTES_PER_ELEMENT, COUNTERS);
  }

  static allocate(): JsonRings {
    const bytes = SightingStore.sharedBytes(RING_SLOTS) + RECORD_WORDS * Float64Array.BYTES_PER_ELEMENT + COUNTERS * Int32Array.BYTES_PER_ELEMENT;
    return new JsonRings(new SharedArrayBuffer(bytes));
  }

  /** Adds one to a counter and wakes whoever sleeps on it. */
  bump(index: number): void {
    Atomics.add(this.counters, index, 1);
    Atomics.notify(this.counters, index);
  }
}

/** What the main thread tells the writer once the trace's points are known. */
export interface JsonWriterTask {
  buffer: SharedArrayBuffer;
  /** The file descriptor to write to: the main thread's output's (a process's descriptors are all its threads'). */
  fd: number;
  labels: string[];
  /** TraceResult.baseNs as a decimal string (a bigint is not cloned to a worker everywhere). */
  baseNs: string;
}

/** Why the writer stopped, its one message to the main thread. */
export interface WriterFailure {
  /** The output could not be written (an OutputError), rather than a bug. */
  output: boolean;
  message: string;
}

/** Packets copied before they are published to the writer (each publication may wake it). */
const PUBLISH_EVERY = 64;
/** How long the writer may take to start before the main thread writes the packets itself. */
const START_TIMEOUT_MS = 10_000;
/** A writer that takes nothing for this long has died. */
const SILENCE_TIMEOUT_MS = 60_000;

const WORKER_URL = new URL('./trace-json-worker.js', import.meta.url);
/** The writer's heap space for new objects (see spawn). */
const WRITER_YOUNG_GENERATION_MB = 4;

/** Whether the built writer script is there to start (under a TypeScript test runner it is not). */
export function jsonThreadAvailable(): boolean {
  return availableParallelism() >= 2 && existsSync(fileURLToPath(WORKER_URL));
}

/**
 * The main thread's side of the writer thread. Spawned before the trace starts (loading takes
 * ~50 ms the sampling hides), begun once the points are known, finished before the members
 * after the packets are written.
 */
export class TraceJsonThread {
  private rings: JsonRings | undefined;
  private slotsWritten = 0;
  private wordsWritten = 0;
  private slotsRead = 0;
  private wordsRead = 0;
  private unpublished = 0;

  private constructor(private readonly thread: StartedWorker) {}

  /** Starts the writer thread; undefined when that fails (the main thread then writes). */
  static spawn(): TraceJsonThread | undefined {
    // The writer makes few objects that live (its patterns): V8's default young generation,
    // 16 MB semi-spaces, put a JSON trace of 6 x 1M over 500 MB of peak RSS (520 MB; 478 MB so).
    const thread = spawnWorker(WORKER_URL, { maxYoungGenerationSizeMb: WRITER_YOUNG_GENERATION_MB });
    return thread === undefined ? undefined : new TraceJsonThread(thread);
  }

  /**
   * Hands the writer the trace's labels and base time, once `out` (holding the document's start)
   * is written out; the writer writes to out's file descriptor. False when the writer did not
   * start: the caller writes the packets.
   */
  begin(out: LineOutput, labels: readonly string[], baseNs: bigint): boolean {
    if (!hasStarted(this.thread, START_TIMEOUT_MS)) return false;
    out.flush();
    this.rings = JsonRings.allocate();
    const task: JsonWriterTask = { buffer: this.rings.buffer, fd: out.fd, labels: [...labels], baseNs: String(baseNs) };
    this.thread.worker.postMessage(task);
    return true;
  }

  /** Copies a decided packet into the rings for the writer (begin() said true). */
  decided({ journey, flow, store, lost, fragmented, resegmented, expired, missed, differing }: DecidedJourney): void {
    const rings = this.rings!;
    const sightings = journey.sightings;
    const words = recordWords(sightings.length, missed.length);
    this.waitForRoom(sightings.length, words);
    const ring = rings.sightings;
    for (let i = 0; i < sightings.length; i++) store.copySlotTo(ring, (this.slotsWritten + i) % RING_SLOTS, sightings[i]!);
    this.put(Record.JOURNEY, journey.id);
    this.put(Record.FLOW, flow.id);
    this.put(Record.SIGHTINGS, sightings.length);
    this.put(Record.FIRST_SLOT, this.slotsWritten);
    this.putHop(Record.LOST, lost);
    this.putHop(Record.FRAGMENTED, fragmented);
    this.putHop(Record.RESEGMENTED, resegmented);
    this.putHop(Record.EXPIRED, expired);
    this.put(Record.QUOTES, journey.quotes);
    this.put(Record.ICMP_ERROR, journey.icmpError === null ? 0 : 1);
    this.put(Record.MISSED, missed.length);
    for (let i = 1; i < sightings.length; i++) this.put(differingWord(i), differing[i]!);
    for (let i = 0; i < missed.length; i++) this.put(missedWord(sightings.length, i), missed[i]!);
    // Posted before the record is published: the writer finds it on the port when it reads the record.
    if (journey.icmpError !== null) this.thread.port.postMessage(journey.icmpError);
    this.slotsWritten += sightings.length;
    this.wordsWritten += words;
    if (++this.unpublished >= PUBLISH_EVERY) this.publish();
  }

  /** Writes a word of the record being made (it starts at wordsWritten). */
  private put(offset: number, value: number): void {
    this.rings!.records[(this.wordsWritten + offset) & (RECORD_WORDS - 1)] = value;
  }

  private putHop(offset: number, hop: { after: number; before: number } | null): void {
    this.put(offset, hop === null ? NO_HOP : hop.after);
    this.put(offset + 1, hop === null ? NO_HOP : hop.before);
  }

  /** Publishes the last packets and waits until the writer has written them all out. */
  finish(): void {
    const rings = this.rings!;
    this.publish();
    Atomics.store(rings.counters, DONE, 1);
    rings.bump(WRITTEN_SIGNAL);
    this.waitFor(() => Atomics.load(rings.counters, FINISHED) === 1, READ_SIGNAL);
    this.throwIfFailed();
  }

  /** The writer is no longer wanted (the trace failed): it ends, whatever it was doing. */
  stop(): void {
    this.thread.port.close();
    void this.thread.worker.terminate();
  }

  private publish(): void {
    const rings = this.rings!;
    this.unpublished = 0;
    Atomics.store(rings.counters, SLOTS_WRITTEN, this.slotsWritten | 0);
    Atomics.store(rings.counters, WORDS_WRITTEN, this.wordsWritten | 0);
    rings.bump(WRITTEN_SIGNAL);
  }

  /** Waits, having published what it holds, until the rings have room for a packet. */
  private waitForRoom(slots: number, words: number): void {
    if (this.fits(slots, words)) return;
    this.takeReadCounts();
    if (this.fits(slots, words)) return;
    this.publish();
    this.waitFor(() => {
      this.takeReadCounts();
      return this.fits(slots, words);
    }, READ_SIGNAL);
  }

  /** Whether the rings have room for a packet, as far as the writer was known to have read. */
  private fits(slots: number, words: number): boolean {
    return this.slotsWritten - this.slotsRead + slots <= RING_SLOTS && this.wordsWritten - this.wordsRead + words <= RECORD_WORDS;
  }

  /** How far the writer has read, in the main thread's own (unwrapped) counts. */
  private takeReadCounts(): void {
    const counters = this.rings!.counters;
    this.slotsRead = this.slotsWritten - ((this.slotsWritten - Atomics.load(counters, SLOTS_READ)) | 0);
    this.wordsRead = this.wordsWritten - ((this.wordsWritten - Atomics.load(counters, WORDS_READ)) | 0);
  }

  /** Sleeps on `signal` until `ready`; throws if the writer failed or stopped taking records. */
  private waitFor(ready: () => boolean, signal: number): void {
    const counters = this.rings!.counters;
    let read = Atomics.load(counters, WORDS_READ);
    let silentSince = Date.now();
    for (;;) {
      const seen = Atomics.load(counters, signal);
      if (ready()) return;
      this.throwIfFailed();
      if (Atomics.wait(counters, signal, seen, 1000) !== 'timed-out') continue;
      const now = Atomics.load(counters, WORDS_READ);
      if (now !== read) {
        read = now;
        silentSince = Date.now();
      } else if (Date.now() - silentSince > SILENCE_TIMEOUT_MS) {
        throw new Error('the JSON writer thread stopped answering');
      }
    }
  }

  /** Throws what the writer failed with: the output's error as the main thread's would be, else a bug's. */
  private throwIfFailed(): void {
    if (Atomics.load(this.rings!.counters, FAILED) !== 1) return;
    const failure = receiveMessageOnPort(this.thread.port)?.message as WriterFailure | undefined;
    if (failure?.output) throw new OutputError(failure.message);
    throw new Error(`the JSON writer thread failed: ${failure?.message ?? 'no reason given'}`);
  }
}
