import { writeSync } from 'node:fs';
import type { JsonSink } from '../dissect/json-bytes.js';
import { pauseSync } from '../io/pause.js';

/**
 * Line output to a file descriptor (standard output by default), gathered into large writes.
 * console.log and process.stdout.write cost a system call or a stream hop per line, which at a
 * million lines a second is most of the run. Lines are encoded straight into one reused buffer:
 * joining them into one string first and encoding that cost a quarter of an ndjson run.
 */
export class LineOutput implements JsonSink {
  /** The output buffer; `used` bytes of it are waiting to be written. */
  private buffer: Buffer;
  /** The same memory as a plain Uint8Array, which writers fill directly after reserve(). */
  bytes: Uint8Array;
  used = 0;
  private closedByReader = false;

  constructor(
    /** Where the lines go (a writer thread may write to it too: trace-json-thread.ts). */
    readonly fd = 1,
    bufferBytes = 1024 * 1024,
  ) {
    this.buffer = Buffer.allocUnsafe(bufferBytes);
    this.bytes = new Uint8Array(this.buffer.buffer, this.buffer.byteOffset, this.buffer.length);
  }

  /** False once the reader has gone away (`vxdump ... | head`): stop producing. */
  get open(): boolean {
    return !this.closedByReader;
  }

  line(text: string): void {
    // A UTF-16 code unit never takes more than 3 bytes in UTF-8: room for that is always enough.
    const worstCase = text.length * 3 + 1;
    if (this.used + worstCase > this.buffer.length) {
      this.flush();
      if (worstCase > this.buffer.length) {
        if (!this.closedByReader) writeFully(this.fd, Buffer.from(`${text}\n`, 'utf8'), () => (this.closedByReader = true));
        return;
      }
    }
    this.used += this.buffer.write(text, this.used, 'utf8');
    this.buffer[this.used++] = 0x0a;
  }

  /** Room for at least `bytes` more bytes at buffer[used]: flushes, or grows the buffer for a huge item. */
  reserve(bytes: number): void {
    if (this.used + bytes <= this.buffer.length) return;
    this.flush();
    if (bytes > this.buffer.length) {
      this.buffer = Buffer.allocUnsafe(bytes);
      this.bytes = new Uint8Array(this.buffer.buffer, this.buffer.byteOffset, this.buffer.length);
    }
  }

  /** Appends text as UTF-8, without a newline. */
  text(text: string): void {
    this.reserve(text.length * 3);
    this.used += this.buffer.write(text, this.used, 'utf8');
  }

  /** Ends the line written into the buffer directly. */
  endLine(): void {
    this.reserve(1);
    this.bytes[this.used++] = 0x0a;
  }

  flush(): void {
    if (this.used === 0) return;
    if (!this.closedByReader) writeFully(this.fd, this.buffer.subarray(0, this.used), () => (this.closedByReader = true));
    this.used = 0;
  }
}

/**
 * The output could not be written: a full disk, a device that refuses writes. Not a bug, and
 * nothing the user gave is wrong, but the run cannot go on: said in one line (cli/errors.ts).
 */
export class OutputError extends Error {}

function writeFully(fd: number, bytes: Buffer, onReaderGone: () => void): void {
  let written = 0;
  while (written < bytes.length) {
    try {
      written += writeSync(fd, bytes, written, bytes.length - written);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        pauseSync(2); // a non-blocking pipe that is full: let the reader catch up
        continue;
      }
      if (code === 'EPIPE') {
        onReaderGone();
        return;
      }
      throw new OutputError(`cannot write the output: ${(error as Error).message}`);
    }
  }
}
