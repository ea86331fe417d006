import { readSync } from 'node:fs';
import { pauseSync } from '../io/pause.js';
import type { CaptureLocation, CaptureWarning } from './errors.js';

/**
 * A window onto a file descriptor, read in large chunks into one reused buffer.
 *
 * Readers ask for "at least n bytes from here" and get a view into the buffer; the memory used
 * is the buffer size whatever the file size. Reads are synchronous on purpose: reading a capture
 * is a tight loop over small records, and an await per chunk (let alone per record) costs more
 * than decoding the record. Standard input works too, as long as it is a pipe or a file.
 *
 * Views handed out stay valid until the next `ensure` that has to read: that call moves the
 * unread tail to the front of the buffer and overwrites what was there.
 */
export class ChunkedInput {
  /** The current buffer; replaced (never shrunk) when one record is larger than it. */
  buffer: Buffer;
  /**
   * A DataView over `buffer`: getUint32(at, littleEndian) is inlined by V8 where Buffer's
   * readUInt32LE/BE are not, and the readers call it several times per record.
   */
  view: DataView;
  // The buffer's backing store and offset, kept in fields: reading them off the Buffer for every
  // frame's view showed in profiles.
  private arrayBuffer: ArrayBuffer;
  private byteOffset: number;
  /** First unread byte in `buffer`. */
  start = 0;
  /** One past the last byte read into `buffer`. */
  end = 0;
  /** File offset of `buffer[0]`, so that `start` maps to a byte offset in the file. */
  private bufferFileOffset = 0;
  private reachedEof = false;

  constructor(
    private readonly fd: number,
    chunkSize = 4 * 1024 * 1024,
    /**
     * Called before every read: on a pipe fed live (tcpdump -w - | vxdump analyze -) the read
     * waits for the next packets, and whoever shows the ones before them must do it now.
     */
    private readonly beforeRead?: () => void,
  ) {
    this.buffer = Buffer.allocUnsafe(chunkSize);
    this.view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.length);
    this.arrayBuffer = this.buffer.buffer as ArrayBuffer;
    this.byteOffset = this.buffer.byteOffset;
  }

  /**
   * A plain Uint8Array view of `length` bytes at `at`. Cheaper to make than Buffer.subarray, and
   * all a frame needs.
   */
  slice(at: number, length: number): Uint8Array {
    return new Uint8Array(this.arrayBuffer, this.byteOffset + at, length);
  }

  /** Byte offset in the file of the first unread byte. */
  get position(): number {
    return this.bufferFileOffset + this.start;
  }

  /** Unread bytes already in the buffer. */
  get available(): number {
    return this.end - this.start;
  }

  /**
   * Make at least `count` unread bytes available at `buffer[start]`. Returns false when the
   * input ends first; `available` then says how many bytes there were.
   */
  ensure(count: number): boolean {
    if (this.end - this.start >= count) return true;
    if (this.reachedEof) return false;
    this.makeRoomFor(count);
    while (this.end - this.start < count && !this.reachedEof) {
      this.beforeRead?.();
      const read = readChunk(this.fd, this.buffer, this.end, this.buffer.length - this.end);
      if (read === 0) this.reachedEof = true;
      this.end += read;
    }
    return this.end - this.start >= count;
  }

  /** Consume `count` bytes. */
  skip(count: number): void {
    this.start += count;
  }

  /**
   * The warning for an input that ends inside a record of `needed` bytes, or undefined when it
   * ended cleanly between records. Both formats phrase a cut-off capture this way.
   */
  cutShortWarning(file: string, what: string, needed: number, framesRead: number, location: CaptureLocation): CaptureWarning | undefined {
    const present = this.available;
    if (present === 0) return undefined;
    return {
      file,
      message: `file ends in the middle of a ${what} (${present} of ${needed} bytes present); ${framesRead} complete frames were read`,
      location: { ...location, offset: this.position },
    };
  }

  /** True when every byte of the input has been consumed. */
  atEnd(): boolean {
    return !this.ensure(1);
  }

  private makeRoomFor(count: number): void {
    if (this.start + count <= this.buffer.length) return;
    const unread = this.end - this.start;
    if (count > this.buffer.length) {
      // One record larger than the buffer: grow to fit it (callers cap record sizes).
      const larger = Buffer.allocUnsafe(Math.max(count, this.buffer.length * 2));
      this.buffer.copy(larger, 0, this.start, this.end);
      this.buffer = larger;
      this.view = new DataView(larger.buffer, larger.byteOffset, larger.length);
      this.arrayBuffer = larger.buffer as ArrayBuffer;
      this.byteOffset = larger.byteOffset;
    } else {
      this.buffer.copyWithin(0, this.start, this.end);
    }
    this.bufferFileOffset += this.start;
    this.start = 0;
    this.end = unread;
  }
}

/**
 * readSync that also copes with a non-blocking pipe on standard input, which answers EAGAIN
 * when the writer is slower than we are: wait a moment and try again.
 */
function readChunk(fd: number, buffer: Buffer, offset: number, length: number): number {
  for (;;) {
    try {
      return readSync(fd, buffer, offset, length, null);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        pauseSync(5);
        continue;
      }
      if (code === 'EOF') return 0; // Windows pipes report end of input this way
      throw error;
    }
  }
}

