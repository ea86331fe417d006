import { closeSync, openSync, writeSync } from 'node:fs';
import { CaptureError } from './errors.js';
import type { Frame } from './frame.js';

/** What a writer needs of a frame: the same type the readers produce, or anything shaped like it. */
export type WritableFrame = Pick<Frame, 'timestampNs' | 'bytes' | 'originalLength'>;

export interface OpenForWritingOptions {
  /** Replace an existing file. Off by default: nothing a user gave is overwritten by accident. */
  overwrite?: boolean;
}

/**
 * Buffered output to a file or standard output ("-"), in large writes. Shared by the pcap and
 * pcapng writers, which only lay out bytes.
 */
class BufferedOutput {
  private readonly buffer = Buffer.allocUnsafe(1024 * 1024);
  private used = 0;
  private readonly fd: number;

  constructor(
    readonly path: string,
    options: OpenForWritingOptions,
  ) {
    if (path === '-') {
      this.fd = 1;
      return;
    }
    try {
      this.fd = openSync(path, options.overwrite ? 'w' : 'wx');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'EEXIST' ? 'already exists (not overwritten)' : `cannot be written (${code})`;
      throw new CaptureError(path, why);
    }
  }

  /** Room for `count` bytes at `buffer[used]`, flushing first if needed. */
  reserve(count: number): { buffer: Buffer; at: number } {
    if (this.used + count > this.buffer.length) this.flush();
    if (count > this.buffer.length) {
      // A record larger than the buffer: give it a buffer of its own, written at once.
      return { buffer: Buffer.alloc(count), at: 0 };
    }
    return { buffer: this.buffer, at: this.used };
  }

  commit(target: Buffer, count: number): void {
    if (target === this.buffer) this.used += count;
    else writeAll(this.fd, target, count);
  }

  flush(): void {
    writeAll(this.fd, this.buffer, this.used);
    this.used = 0;
  }

  close(): void {
    this.flush();
    if (this.fd !== 1) closeSync(this.fd);
  }
}

function writeAll(fd: number, buffer: Buffer, count: number): void {
  let written = 0;
  while (written < count) written += writeSync(fd, buffer, written, count - written);
}

const NS_PER_SECOND = 1_000_000_000n;

export interface PcapWriterOptions extends OpenForWritingOptions {
  linkType: number;
  /** Largest frame the capture could hold; 262144 as tcpdump writes. */
  snapLength?: number;
  /** Nanosecond timestamps (magic 0xa1b23c4d) instead of microseconds. */
  nanosecond?: boolean;
}

/** Writes a classic little-endian pcap file, as tcpdump -w does. */
export class PcapWriter {
  private readonly output: BufferedOutput;
  private readonly nanosecond: boolean;

  constructor(path: string, options: PcapWriterOptions) {
    this.output = new BufferedOutput(path, options);
    this.nanosecond = options.nanosecond ?? false;
    const { buffer, at } = this.output.reserve(24);
    buffer.writeUInt32LE(this.nanosecond ? 0xa1b23c4d : 0xa1b2c3d4, at);
    buffer.writeUInt16LE(2, at + 4);
    buffer.writeUInt16LE(4, at + 6);
    buffer.writeInt32LE(0, at + 8); // thiszone: always UTC
    buffer.writeUInt32LE(0, at + 12); // sigfigs
    buffer.writeUInt32LE(options.snapLength ?? 262144, at + 16);
    buffer.writeUInt32LE(options.linkType, at + 20);
    this.output.commit(buffer, 24);
  }

  write(frame: WritableFrame): void {
    const length = frame.bytes.length;
    const { buffer, at } = this.output.reserve(16 + length);
    const seconds = frame.timestampNs / NS_PER_SECOND;
    const fractionNs = frame.timestampNs % NS_PER_SECOND;
    buffer.writeUInt32LE(Number(seconds), at);
    buffer.writeUInt32LE(Number(this.nanosecond ? fractionNs : fractionNs / 1000n), at + 4);
    buffer.writeUInt32LE(length, at + 8);
    buffer.writeUInt32LE(Math.max(frame.originalLength, length), at + 12);
    buffer.set(frame.bytes, at + 16);
    this.output.commit(buffer, 16 + length);
  }

  close(): void {
    this.output.close();
  }
}

export interface PcapngInterfaceOptions {
  linkType: number;
  name?: string;
  snapLength?: number;
}

/**
 * Writes a little-endian pcapng file: one section, one Interface Description Block per
 * `addInterface`, Enhanced Packet Blocks with nanosecond timestamps (if_tsresol 9).
 */
export class PcapngWriter {
  private readonly output: BufferedOutput;
  private interfaceCount = 0;

  constructor(path: string, options: OpenForWritingOptions = {}) {
    this.output = new BufferedOutput(path, options);
    const { buffer, at } = this.output.reserve(28);
    buffer.writeUInt32LE(0x0a0d0d0a, at);
    buffer.writeUInt32LE(28, at + 4);
    buffer.writeUInt32LE(0x1a2b3c4d, at + 8);
    buffer.writeUInt16LE(1, at + 12);
    buffer.writeUInt16LE(0, at + 14);
    buffer.writeBigInt64LE(-1n, at + 16); // section length not known in advance
    buffer.writeUInt32LE(28, at + 24);
    this.output.commit(buffer, 28);
  }

  /** Describes an interface; returns the id to pass to `write`. */
  addInterface(options: PcapngInterfaceOptions): number {
    const name = options.name === undefined ? undefined : Buffer.from(options.name, 'utf8');
    const nameOption = name === undefined ? 0 : 4 + pad4(name.length);
    const length = 20 + nameOption + 8 + 4; // fixed part, if_name, if_tsresol (4 + 1 padded), opt_endofopt
    const { buffer, at } = this.output.reserve(length);
    buffer.fill(0, at, at + length);
    buffer.writeUInt32LE(1, at);
    buffer.writeUInt32LE(length, at + 4);
    buffer.writeUInt16LE(options.linkType, at + 8);
    buffer.writeUInt32LE(options.snapLength ?? 262144, at + 12);
    let option = at + 16;
    if (name !== undefined) {
      buffer.writeUInt16LE(2, option);
      buffer.writeUInt16LE(name.length, option + 2);
      name.copy(buffer, option + 4);
      option += nameOption;
    }
    buffer.writeUInt16LE(9, option); // if_tsresol
    buffer.writeUInt16LE(1, option + 2);
    buffer.writeUInt8(9, option + 4); // 10^-9: nanoseconds
    // opt_endofopt is the zeros already there
    buffer.writeUInt32LE(length, at + length - 4);
    this.output.commit(buffer, length);
    return this.interfaceCount++;
  }

  write(frame: WritableFrame, interfaceId = 0): void {
    const captured = frame.bytes.length;
    const length = 32 + pad4(captured);
    const { buffer, at } = this.output.reserve(length);
    const ticks = frame.timestampNs;
    buffer.writeUInt32LE(6, at);
    buffer.writeUInt32LE(length, at + 4);
    buffer.writeUInt32LE(interfaceId, at + 8);
    buffer.writeUInt32LE(Number(ticks >> 32n), at + 12);
    buffer.writeUInt32LE(Number(ticks & 0xffffffffn), at + 16);
    buffer.writeUInt32LE(captured, at + 20);
    buffer.writeUInt32LE(Math.max(frame.originalLength, captured), at + 24);
    buffer.set(frame.bytes, at + 28);
    buffer.fill(0, at + 28 + captured, at + length - 4);
    buffer.writeUInt32LE(length, at + length - 4);
    this.output.commit(buffer, length);
  }

  close(): void {
    this.output.close();
  }
}

function pad4(length: number): number {
  return (length + 3) & ~3;
}
