import { closeSync, openSync, readSync } from 'node:fs';
import { type MessagePort, workerData } from 'node:worker_threads';
import { TickClock, TickFrame } from '../capture/frame.js';
import { MAX_RECORD_BYTES } from '../capture/source.js';
import { createDissector } from '../dissect/index.js';
import type { WorkerResult, WorkerTask } from './parallel.js';
import { CaptureSummary } from './summary.js';

/*
 * The worker thread of parallel.ts: summarises the records of a classic pcap file from a record
 * boundary to the end, and answers with the summary's state.
 *
 * It reads the records itself, with positional reads from `start`: PcapReader reads a file from
 * its header on. The record handling is PcapReader's (the same checks, the same frames, the same
 * warnings, numbered from `start` here and renumbered by the main thread); test/cli/golden.test.ts
 * runs the summaries of both ways over the same captures.
 */

const { task, port } = workerData as { task: WorkerTask; port: MessagePort };
const done = new Int32Array(task.done);

function answer(result: WorkerResult): void {
  port.postMessage(result);
  Atomics.store(done, 0, 1);
  Atomics.notify(done, 0);
}

try {
  answer(summarise(task));
} catch (error) {
  answer({ ok: false, reason: (error as Error).message });
}

function summarise(t: WorkerTask): WorkerResult {
  const dissect = createDissector({ vxlanPorts: t.vxlanPorts, vxlanHeuristic: t.vxlanHeuristic });
  const summary = new CaptureSummary(t.summary, true);
  const clock = new TickClock(BigInt(t.ticksPerSecond), 0n, true);
  const le = t.littleEndian;
  const fd = openSync(t.file, 'r');
  let buffer = Buffer.allocUnsafe(4 * 1024 * 1024);
  let view = new DataView(buffer.buffer, buffer.byteOffset, buffer.length);
  /** File offset of buffer[0]; bytes [start, end) of the buffer are read and unconsumed. */
  let bufferOffset = t.start;
  let start = 0;
  let end = 0;
  let eof = false;
  let frames = 0;
  let fractionWarning: { fraction: number; frame: number; offset: number } | undefined;

  /** At least `count` unconsumed bytes in the buffer, unless the file ends first. */
  const ensure = (count: number): boolean => {
    if (end - start >= count) return true;
    if (eof) return false;
    if (start + count > buffer.length) {
      if (count > buffer.length) {
        const larger = Buffer.allocUnsafe(Math.max(count, buffer.length * 2));
        buffer.copy(larger, 0, start, end);
        buffer = larger;
        view = new DataView(buffer.buffer, buffer.byteOffset, buffer.length);
      } else buffer.copyWithin(0, start, end);
      bufferOffset += start;
      end -= start;
      start = 0;
    }
    while (end - start < count && !eof) {
      const read = readSync(fd, buffer, end, buffer.length - end, bufferOffset + end);
      if (read === 0) eof = true;
      end += read;
    }
    return end - start >= count;
  };

  try {
    for (;;) {
      const frameNumber = frames + 1;
      if (!ensure(16)) return finish(frameNumber, 16, 'record header');
      const seconds = view.getUint32(start, le);
      const fraction = view.getUint32(start + 4, le);
      const capturedLength = view.getUint32(start + 8, le);
      const originalLength = view.getUint32(start + 12, le);
      if (capturedLength > MAX_RECORD_BYTES) {
        return {
          ok: true,
          state: summary.state(),
          frames,
          error: {
            problem: `record claims ${capturedLength} captured bytes, more than the ${MAX_RECORD_BYTES} any capture holds: the file is corrupt`,
            frame: frameNumber,
            offset: bufferOffset + start,
          },
          ...(fractionWarning === undefined ? {} : { fraction: fractionWarning }),
        };
      }
      if (fraction >= t.ticksPerSecond && fractionWarning === undefined) {
        fractionWarning = { fraction, frame: frameNumber, offset: bufferOffset + start };
      }
      const recordBytes = 16 + capturedLength;
      if (!ensure(recordBytes)) return finish(frameNumber, recordBytes, 'record');
      const bytes = new Uint8Array(buffer.buffer, buffer.byteOffset + start + 16, capturedLength);
      start += recordBytes;
      frames = frameNumber;
      const frame = new TickFrame(frameNumber, seconds, fraction, clock, capturedLength, originalLength, t.linkType, 0, undefined, bytes);
      summary.add(dissect(frame), t.file);
    }
  } finally {
    closeSync(fd);
  }

  function finish(frameNumber: number, needed: number, what: string): WorkerResult {
    const present = end - start;
    return {
      ok: true,
      state: summary.state(),
      frames,
      ...(fractionWarning === undefined ? {} : { fraction: fractionWarning }),
      ...(present === 0 ? {} : { cutShort: { what, present, needed, frame: frameNumber, offset: bufferOffset + start } }),
    };
  }
}
