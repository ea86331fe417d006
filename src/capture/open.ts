import { closeSync, fstatSync, openSync } from 'node:fs';
import { ChunkedInput } from './chunked-input.js';
import { CaptureError, type CaptureWarning } from './errors.js';
import type { Frame } from './frame.js';
import { isPcapMagic, PcapReader } from './pcap.js';
import { PcapngReader } from './pcapng.js';
import type { FrameSource } from './source.js';

const PCAPNG_MAGIC = 0x0a0d0d0a;
const STDIN_NAME = '-';

/**
 * An open capture file (or standard input): iterate it for frames, in constant memory.
 *
 *   const capture = openCapture('eth0.pcap');
 *   for (const frame of capture) { ... }
 *   capture.warnings  // e.g. "file ends in the middle of a record"
 *
 * The file is closed when iteration ends, also when a loop breaks out early or reading throws.
 */
export class CaptureReader implements Iterable<Frame> {
  private closed = false;

  constructor(
    private readonly source: FrameSource,
    private readonly input: ChunkedInput,
    private readonly fd: number,
  ) {}

  /** Bytes of the file consumed so far (for progress reports). */
  get position(): number {
    return this.input.position;
  }

  get file(): string {
    return this.source.file;
  }

  /** "pcap" or "pcapng". */
  get format(): string {
    return this.source.format;
  }

  get warnings(): readonly CaptureWarning[] {
    return this.source.warnings;
  }

  /** The underlying reader, for format details (pcap header, pcapng interfaces). */
  get details(): FrameSource {
    return this.source;
  }

  /** The next frame, or null at the end. The fast path for tight loops. */
  next(): Frame | null {
    if (this.closed) return null;
    try {
      const frame = this.source.next();
      if (frame === null) this.close();
      return frame;
    } catch (error) {
      this.close();
      throw error;
    }
  }

  [Symbol.iterator](): Iterator<Frame> {
    return {
      next: () => {
        const frame = this.next();
        return frame === null ? { done: true, value: undefined } : { done: false, value: frame };
      },
      return: () => {
        this.close();
        return { done: true, value: undefined };
      },
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.fd !== 0) closeSync(this.fd);
  }
}

export interface OpenCaptureOptions {
  /** Bytes read at a time (default 4 MiB); records larger than this still read whole. */
  chunkSize?: number;
  /** Called before every read of the input, which on a live pipe may wait (see ChunkedInput). */
  beforeRead?: () => void;
}

/**
 * Opens a pcap or pcapng file, telling them apart by their first four bytes. `-` reads standard
 * input. Throws CaptureError (naming the file and what is wrong) for a missing file, a directory,
 * an empty file or one that is not a capture.
 */
export function openCapture(path: string, options: OpenCaptureOptions = {}): CaptureReader {
  const fd = path === STDIN_NAME ? 0 : openFile(path);
  try {
    const input = new ChunkedInput(fd, options.chunkSize, options.beforeRead);
    return new CaptureReader(sourceFor(input, path), input, fd);
  } catch (error) {
    if (fd !== 0) closeSync(fd);
    throw error;
  }
}

function openFile(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new CaptureError(path, describeOpenError(error as NodeJS.ErrnoException));
  }
  if (fstatSync(fd).isDirectory()) {
    closeSync(fd);
    throw new CaptureError(path, 'is a directory, not a capture file');
  }
  return fd;
}

function describeOpenError(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory, not a capture file';
    default:
      return `cannot open (${error.code ?? error.message})`;
  }
}

function sourceFor(input: ChunkedInput, file: string): FrameSource {
  if (!input.ensure(4)) {
    const what = input.available === 0 ? 'is empty' : `is only ${input.available} bytes long`;
    throw new CaptureError(file, `${what}: not a pcap or pcapng capture`);
  }
  const magic = input.buffer.readUInt32LE(input.start);
  if (magic === PCAPNG_MAGIC) return new PcapngReader(input, file);
  if (isPcapMagic(magic)) return new PcapReader(input, file);
  const shown = input.buffer.subarray(input.start, input.start + 4).toString('hex');
  throw new CaptureError(file, `not a pcap or pcapng capture (starts with 0x${shown})`, { offset: 0 });
}
