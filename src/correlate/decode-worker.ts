import { CaptureError } from '../capture/errors.js';
import { workerRunning } from '../io/worker-start.js';
import { type CaptureReader, openCapture } from '../capture/open.js';
import { StreamInterfaces } from './capture-statistics.js';
import { frameInterface, onInterface, sectionOf, type WholeInterface } from './points.js';
import type { SightingStore } from './sighting.js';
import { SightingDecoder } from './sighting-decoder.js';
import { LateInterfaces, traceTimeNs } from './sighting-sources.js';
import { BYTES_READ, CONSUMED, type DecodeTask, ENDED, FIRST_FRAME_NS, FREED, RING_SLOTS, SIGNAL, SightingRings, STOP, type StreamEnd, WRITTEN } from './sighting-rings.js';

/*
 * trace's decode worker: reads the capture streams, decodes every frame and writes its
 * sighting into the stream's ring (sighting-rings.ts), while the main thread matches the
 * sightings it has already copied out. Reading and decoding are a large part of trace's work and
 * need nothing from the matching, so on two cores they cost the main thread nothing but the copy.
 *
 * The worker fills whichever rings have room, a batch at a time, and sleeps when all are full.
 * A stream's frames and warnings are exactly those of reading it in the main thread: the same
 * reader and decoder (SightingDecoder), the same time arithmetic (traceTimeNs).
 */

/** Sightings decoded into one ring before the worker publishes them and looks at the next. */
const BATCH = 256;

const port = workerRunning(decodeAll);

interface Stream {
  readonly index: number;
  readonly reader: CaptureReader;
  readonly point: number;
  readonly ring: SightingStore;
  /** For a pcapng of one interface: that interface, and the others it describes later. */
  readonly wholeInterface: WholeInterface | undefined;
  readonly late: LateInterfaces;
  /** The interfaces its frames came from, for their statistics at the end. */
  readonly interfaces: StreamInterfaces;
  written: number;
  frames: number;
  unidentified: number;
  cut: number;
  ended: boolean;
}

function decodeAll(task: DecodeTask): void {
  const rings = new SightingRings(task.buffer, task.streams.length);
  const { counters, values } = rings;
  const decoder = new SightingDecoder({ vxlanPorts: task.vxlanPorts, vxlanHeuristic: task.vxlanHeuristic });
  const streams: Stream[] = [];
  task.streams.forEach(({ file, point, wholeInterface }, index) => {
    try {
      const late = new LateInterfaces(file, task.sampleFrames);
      const reader = openCapture(file);
      streams.push({ index, reader, point, ring: rings.rings[index]!, wholeInterface, late, interfaces: new StreamInterfaces(reader), written: 0, frames: 0, unidentified: 0, cut: 0, ended: false });
    } catch (error) {
      end({ index, frames: 0, unidentified: 0, cut: 0 }, [], error);
    }
  });
  try {
    fillRings(streams);
  } catch (error) {
    // Not a capture's fault (those end their stream in decodeBatch): say so on every stream left.
    for (const stream of streams) if (!stream.ended) end(stream, [], error);
  } finally {
    for (const stream of streams) stream.reader.close();
    port.close();
  }

  /** Tells the main thread the stream is over: the message first, then the flag it waits on. */
  function end(stream: Pick<Stream, 'index' | 'frames' | 'unidentified' | 'cut'> & { interfaces?: StreamInterfaces }, warnings: StreamEnd['warnings'], error?: unknown): void {
    const statistics = stream.interfaces?.statistics() ?? null;
    const message: StreamEnd = { stream: stream.index, frames: stream.frames, unidentified: stream.unidentified, cut: stream.cut, warnings, statistics };
    if (error instanceof CaptureError) message.error = { file: error.file, problem: error.problem, location: { ...error.location }, message: error.message };
    else if (error !== undefined) message.error = { message: error instanceof Error ? error.message : String(error) };
    port.postMessage(message);
    Atomics.store(counters, rings.counter(stream.index, ENDED), 1);
    rings.bump(rings.counter(stream.index, SIGNAL));
  }

  /** Decodes up to `room` sightings of the stream into its ring. */
  function decodeBatch(stream: Stream, room: number): void {
    const { reader, ring, point, wholeInterface } = stream;
    let decoded = 0;
    try {
      while (decoded < room) {
        const frame = reader.next();
        if (frame === null) {
          stream.ended = true;
          break;
        }
        if (wholeInterface !== undefined && !onInterface(wholeInterface, sectionOf(reader), frame)) {
          stream.late.leftOut(frameInterface(false, reader, frame), frame);
          continue;
        }
        stream.frames += 1;
        stream.interfaces.note(frame);
        const timeNs = traceTimeNs(frame, task.base);
        if (stream.frames === 1) values[rings.value(stream.index, FIRST_FRAME_NS)] = timeNs;
        const identified = decoder.decodeInto(ring, stream.written % RING_SLOTS, frame, point, timeNs);
        if (decoder.cut) stream.cut += 1;
        if (identified) {
          stream.written += 1;
          decoded += 1;
        } else stream.unidentified += 1;
      }
    } catch (error) {
      stream.ended = true;
      publish(stream);
      reader.close();
      end(stream, [...reader.warnings, ...stream.late.warnings], error);
      return;
    }
    publish(stream);
    if (stream.ended) end(stream, [...reader.warnings, ...stream.late.warnings]);
  }

  function publish(stream: Stream): void {
    values[rings.value(stream.index, BYTES_READ)] = stream.reader.position;
    Atomics.store(counters, rings.counter(stream.index, WRITTEN), stream.written | 0);
    rings.bump(rings.counter(stream.index, SIGNAL));
  }

  /** Decodes into whichever rings have room until every stream has ended or the main thread stops us. */
  function fillRings(all: Stream[]): void {
    const freed = rings.shared(FREED);
    let open = all.filter((stream) => !stream.ended);
    while (open.length > 0 && Atomics.load(counters, rings.shared(STOP)) === 0) {
      // Read before looking at the rings, so that slots freed meanwhile wake the wait below.
      const epoch = Atomics.load(counters, freed);
      let worked = false;
      for (const stream of open) {
        const inRing = (stream.written - Atomics.load(counters, rings.counter(stream.index, CONSUMED))) | 0;
        const room = Math.min(BATCH, RING_SLOTS - inRing);
        if (room <= 0) continue;
        decodeBatch(stream, room);
        worked = true;
      }
      open = open.filter((stream) => !stream.ended);
      if (!worked) Atomics.wait(counters, freed, epoch);
    }
  }
}
