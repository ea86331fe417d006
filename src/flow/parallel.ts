import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { CaptureError, type CaptureWarning } from '../capture/errors.js';
import { MAX_RECORD_BYTES } from '../capture/source.js';
import type { SummaryOptions, SummaryState } from './summary.js';

/*
 * `vxdump analyze FILE --summary` on two cores: the main thread summarises the first half of a
 * classic pcap file while a worker thread summarises the second half, and the two summaries are
 * merged (CaptureSummary.merge), giving exactly what one pass gives.
 *
 * The second half starts at a record boundary found by looking for a chain of plausible record
 * headers near the middle of the file. The main thread's ordinary reader then proves it: its
 * records, read from the start of the file, must end exactly there. If they do not (a chain that
 * only looked right), or the worker fails or takes far too long, the main thread simply reads on
 * from where it is, and the worker's result is dropped: the output never depends on the guess.
 */

/** Files smaller than this are read in one pass (a worker costs ~50 ms to start). */
const DEFAULT_MIN_BYTES = 32 * 1024 * 1024;
/** Record headers in a row that must make sense at a candidate boundary. */
const CHAIN = 16;
/** Bytes around the middle searched for a boundary. */
const WINDOW_BYTES = 2 * 1024 * 1024;
const FILE_HEADER_BYTES = 24;
const RECORD_HEADER_BYTES = 16;
/** A chain's timestamps lie within this many seconds of each other. */
const CHAIN_SECONDS = 86_400;

/** What the worker is told (workerData). */
export interface WorkerTask {
  file: string;
  /** Byte offset of the first record of the second half. */
  start: number;
  littleEndian: boolean;
  /** Timestamp fractions per second: 10^6 (µs) or 10^9 (ns). */
  ticksPerSecond: number;
  linkType: number;
  vxlanPorts: number[] | undefined;
  vxlanHeuristic: boolean;
  summary: SummaryOptions;
  /** Where to say "done" (Int32Array over a SharedArrayBuffer: 0 running, 1 done). */
  done: SharedArrayBuffer;
}

/** What the worker answers. Frame numbers in it count from 1 at `start`. */
export type WorkerResult =
  | {
      ok: true;
      state: SummaryState;
      frames: number;
      /** The first fraction of a second out of range (the reader's warning). */
      fraction?: { fraction: number; frame: number; offset: number };
      /** The file ends inside a record. */
      cutShort?: { what: string; present: number; needed: number; frame: number; offset: number };
      /** A record that cannot be read (the reader's CaptureError): the summary is not printed. */
      error?: { problem: string; frame: number; offset: number };
    }
  | { ok: false; reason: string };

/** A worker's result when it summarised its part. */
export type WorkerSummary = Extract<WorkerResult, { ok: true }>;

/** A second half being summarised by a worker thread. */
export class SecondHalf {
  private constructor(
    readonly start: number,
    private readonly worker: Worker,
    private readonly port: MessagePort,
    private readonly done: Int32Array,
  ) {}

  /**
   * Starts a worker on the second half of `file` when that is worth it and possible: a classic
   * pcap file (either byte order, µs or ns) of at least 32 MB, a machine with two or more cores,
   * and a record boundary found near the middle. Otherwise undefined: read it in one pass.
   */
  static start(file: string, options: Omit<WorkerTask, 'file' | 'start' | 'littleEndian' | 'ticksPerSecond' | 'linkType' | 'done'>): SecondHalf | undefined {
    const minBytes = Number(process.env.VXDUMP_PARALLEL_MIN_BYTES ?? DEFAULT_MIN_BYTES);
    if (file === '-' || availableParallelism() < 2) return undefined;
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch {
      return undefined;
    }
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile() || stat.size < minBytes || stat.size < FILE_HEADER_BYTES + 2 * RECORD_HEADER_BYTES) return undefined;
      const header = Buffer.alloc(FILE_HEADER_BYTES);
      if (readSync(fd, header, 0, FILE_HEADER_BYTES, 0) !== FILE_HEADER_BYTES) return undefined;
      const format = pcapFormat(header.readUInt32LE(0));
      if (format === undefined) return undefined;
      const { littleEndian, ticksPerSecond } = format;
      const linkType = (littleEndian ? header.readUInt32LE(20) : header.readUInt32BE(20)) & 0x03ffffff;
      const start = findBoundary(fd, stat.size, littleEndian, ticksPerSecond);
      if (start === undefined) return undefined;
      const done = new SharedArrayBuffer(4);
      const { port1, port2 } = new MessageChannel();
      const task: WorkerTask = { ...options, file, start, littleEndian, ticksPerSecond, linkType, done };
      const worker = new Worker(new URL('./summary-worker.js', import.meta.url), {
        workerData: { task, port: port2 },
        transferList: [port2],
        stdout: true,
        stderr: true,
      });
      worker.unref();
      worker.on('error', () => {}); // a failing worker only means reading on in one pass
      return new SecondHalf(start, worker, port1, new Int32Array(done));
    } finally {
      closeSync(fd);
    }
  }

  /**
   * The worker's result, waiting for it (synchronously) at most `timeoutMs`; undefined when it
   * failed or did not answer in time (the worker is then stopped).
   */
  result(timeoutMs: number): WorkerSummary | undefined {
    const deadline = Date.now() + timeoutMs;
    while (Atomics.load(this.done, 0) === 0) {
      const left = deadline - Date.now();
      if (left <= 0) {
        this.cancel();
        return undefined;
      }
      Atomics.wait(this.done, 0, 0, Math.min(left, 100));
    }
    const message = receiveMessageOnPort(this.port);
    if (message === undefined) return undefined;
    const result = message.message as WorkerResult;
    return result.ok ? result : undefined;
  }

  /** Stops the worker; its result is not needed. */
  cancel(): void {
    void this.worker.terminate();
  }
}

function pcapFormat(magic: number): { littleEndian: boolean; ticksPerSecond: number } | undefined {
  switch (magic) {
    case 0xa1b2c3d4:
      return { littleEndian: true, ticksPerSecond: 1e6 };
    case 0xd4c3b2a1:
      return { littleEndian: false, ticksPerSecond: 1e6 };
    case 0xa1b23c4d:
      return { littleEndian: true, ticksPerSecond: 1e9 };
    case 0x4d3cb2a1:
      return { littleEndian: false, ticksPerSecond: 1e9 };
    default:
      return undefined; // pcapng, or Kuznetzov's 24-byte records: one pass
  }
}

/**
 * The first offset from the middle of the file where CHAIN record headers in a row make sense
 * (lengths within bounds, captured ≤ original, fractions below a second, times close together)
 * and end inside the window or exactly at the end of the file.
 */
function findBoundary(fd: number, size: number, littleEndian: boolean, ticksPerSecond: number): number | undefined {
  const from = FILE_HEADER_BYTES + Math.floor((size - FILE_HEADER_BYTES) / 2);
  const window = Buffer.alloc(Math.min(WINDOW_BYTES, size - from));
  const got = readSync(fd, window, 0, window.length, from);
  const view = new DataView(window.buffer, window.byteOffset, got);
  for (let at = 0; at + RECORD_HEADER_BYTES <= got; at++) {
    let p = at;
    let firstSeconds = -1;
    let chain = 0;
    while (chain < CHAIN) {
      if (from + p === size) break; // the chain reaches the end of the file exactly
      if (p + RECORD_HEADER_BYTES > got) {
        chain = -1;
        break;
      }
      const seconds = view.getUint32(p, littleEndian);
      const fraction = view.getUint32(p + 4, littleEndian);
      const captured = view.getUint32(p + 8, littleEndian);
      const original = view.getUint32(p + 12, littleEndian);
      if (firstSeconds < 0) firstSeconds = seconds;
      if (
        fraction >= ticksPerSecond ||
        captured > MAX_RECORD_BYTES ||
        captured > original ||
        Math.abs(seconds - firstSeconds) > CHAIN_SECONDS ||
        from + p + RECORD_HEADER_BYTES + captured > size
      ) {
        chain = -1;
        break;
      }
      p += RECORD_HEADER_BYTES + captured;
      chain++;
    }
    if (chain > 0 && (chain === CHAIN || from + p === size)) return from + at;
  }
  return undefined;
}

/** The worker's warnings and error, numbered for the whole file (`frames` came before its part). */
export function secondHalfWarnings(file: string, result: WorkerSummary, frames: number, haveFractionWarning: boolean, nanosecond: boolean): CaptureWarning[] {
  const warnings: CaptureWarning[] = [];
  if (result.fraction !== undefined && !haveFractionWarning) {
    const { fraction, frame, offset } = result.fraction;
    warnings.push({
      file,
      message: `timestamp has ${fraction} ${nanosecond ? 'nanoseconds' : 'microseconds'} past the second, out of range; carried into the seconds (later frames are not reported again)`,
      location: { frame: frames + frame, offset },
    });
  }
  if (result.cutShort !== undefined) {
    const { what, present, needed, frame, offset } = result.cutShort;
    warnings.push({
      file,
      message: `file ends in the middle of a ${what} (${present} of ${needed} bytes present); ${frames + frame - 1} complete frames were read`,
      location: { frame: frames + frame, offset },
    });
  }
  return warnings;
}

export function secondHalfError(file: string, result: WorkerSummary, frames: number): CaptureError | undefined {
  if (result.error === undefined) return undefined;
  return new CaptureError(file, result.error.problem, { frame: frames + result.error.frame, offset: result.error.offset });
}
