import { receiveMessageOnPort } from 'node:worker_threads';
import { workerRunning } from '../io/worker-start.js';
import type { DecidedJourney, Flow } from '../correlate/flows.js';
import type { IcmpErrorNote } from '../correlate/icmp-errors.js';
import type { Journey } from '../correlate/journeys.js';
import { LineOutput, OutputError } from './output.js';
import { TraceJsonWriter } from './trace-json.js';
import {
  differingWord,
  DONE,
  FAILED,
  FINISHED,
  JsonRings,
  type JsonWriterTask,
  missedWord,
  NO_HOP,
  READ_SIGNAL,
  RECORD_WORDS,
  Record,
  recordWords,
  RING_SLOTS,
  SLOTS_READ,
  WORDS_READ,
  WORDS_WRITTEN,
  type WriterFailure,
  WRITTEN_SIGNAL,
} from './trace-json-thread.js';

/*
 * trace's JSON writer thread: takes the decided packets the main thread copies into the shared
 * rings (trace-json-thread.ts), in order, and writes each with TraceJsonWriter to standard
 * output, while the main thread matches the next ones.
 */

/** Packets taken before the main thread is told it may reuse their room. */
const RELEASE_EVERY = 64;

const port = workerRunning(writeAll);

function writeAll(task: JsonWriterTask): void {
  const rings = new JsonRings(task.buffer);
  const { counters, records } = rings;
  const out = new LineOutput(task.fd);
  const baseNs = BigInt(task.baseNs);
  const writer = new TraceJsonWriter(out, () => task.labels, () => baseNs);
  // One packet at a time, in objects made once: the writer reads only these fields.
  const journey = { id: 0, sightings: [] as number[], icmpError: null as IcmpErrorNote | null, quotes: 0 };
  const flow = { id: 0 };
  const decided = {
    journey: journey as unknown as Journey,
    flow: flow as unknown as Flow,
    store: rings.sightings,
    lost: null as DecidedJourney['lost'],
    fragmented: null as DecidedJourney['fragmented'],
    resegmented: null as DecidedJourney['resegmented'],
    expired: null as DecidedJourney['expired'],
    missed: [] as number[],
    differing: new Int32Array(64),
  };
  let wordsRead = 0;
  let recordAt = 0;
  let slotsRead = 0;
  let taken = 0;
  try {
    for (;;) {
      const seen = Atomics.load(counters, WRITTEN_SIGNAL);
      // DONE before WORDS_WRITTEN: the main thread publishes its last records before DONE.
      const done = Atomics.load(counters, DONE) === 1;
      const written = Atomics.load(counters, WORDS_WRITTEN);
      if (((written - wordsRead) | 0) === 0) {
        if (done) break;
        release();
        Atomics.wait(counters, WRITTEN_SIGNAL, seen);
        continue;
      }
      while (((written - wordsRead) | 0) !== 0) {
        wordsRead += readRecord(wordsRead);
        if (++taken % RELEASE_EVERY === 0) release();
      }
    }
    release();
    out.flush();
  } catch (error) {
    const failure: WriterFailure = error instanceof OutputError ? { output: true, message: error.message } : { output: false, message: error instanceof Error ? (error.stack ?? error.message) : String(error) };
    port.postMessage(failure);
    Atomics.store(counters, FAILED, 1);
  }
  Atomics.store(counters, FINISHED, 1);
  rings.bump(READ_SIGNAL);
  port.close();

  /** Tells the main thread how far it has read: that room is free again. */
  function release(): void {
    Atomics.store(counters, SLOTS_READ, slotsRead | 0);
    Atomics.store(counters, WORDS_READ, wordsRead | 0);
    rings.bump(READ_SIGNAL);
  }

  /** A word of the record being read (it starts at recordAt). */
  function word(offset: number): number {
    return records[(recordAt + offset) & (RECORD_WORDS - 1)]!;
  }

  /** The two points a packet went missing between, or null. */
  function hop(offset: number): DecidedJourney['lost'] {
    return word(offset) === NO_HOP ? null : { after: word(offset), before: word(offset + 1) };
  }

  /** Writes the packet whose record starts at `at`; returns the record's length in words. */
  function readRecord(at: number): number {
    recordAt = at;
    const count = word(Record.SIGHTINGS);
    const first = word(Record.FIRST_SLOT);
    journey.id = word(Record.JOURNEY);
    journey.sightings.length = count;
    for (let i = 0; i < count; i++) journey.sightings[i] = (first + i) % RING_SLOTS;
    journey.quotes = word(Record.QUOTES);
    journey.icmpError = word(Record.ICMP_ERROR) === 1 ? (receiveMessageOnPort(port)!.message as IcmpErrorNote) : null;
    flow.id = word(Record.FLOW);
    decided.lost = hop(Record.LOST);
    decided.fragmented = hop(Record.FRAGMENTED);
    decided.resegmented = hop(Record.RESEGMENTED);
    decided.expired = hop(Record.EXPIRED);
    if (decided.differing.length < count) decided.differing = new Int32Array(count * 2);
    for (let i = 1; i < count; i++) decided.differing[i] = word(differingWord(i));
    const missed = word(Record.MISSED);
    decided.missed.length = missed;
    for (let i = 0; i < missed; i++) decided.missed[i] = word(missedWord(count, i));
    writer.decided(decided);
    slotsRead += count;
    return recordWords(count, missed);
  }
}
