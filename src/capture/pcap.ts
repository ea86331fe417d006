import type { ChunkedInput } from './chunked-input.js';
import { CaptureError, type CaptureWarning } from './errors.js';
import { type Frame, TickClock, TickFrame } from './frame.js';
import { MAX_RECORD_BYTES, type FrameSource } from './source.js';

/*
 * Classic libpcap format (https://www.tcpdump.org/manpages/pcap-savefile.5.html).
 *
 *  File header, 24 bytes, in the writer's byte order:
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                         Magic Number                          |
 *  |         Major Version         |         Minor Version         |
 *  |                      Reserved1 (thiszone)                     |
 *  |                      Reserved2 (sigfigs)                      |
 *  |                            SnapLen                            |
 *  | FCS |f|0 0 0 0 0 0 0 0 0 0 0 0|         LinkType              |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 *  Record header, 16 bytes (24 in Kuznetzov's "modified" format), then the captured bytes:
 *  | Timestamp (seconds) | Timestamp (µs or ns) | Captured Length | Original Length |
 */

/** The magic number as read little-endian, and what it says about the file. */
const MAGICS: ReadonlyMap<number, { littleEndian: boolean; ticksPerSecond: bigint; recordHeaderBytes: number }> =
  new Map([
    [0xa1b2c3d4, { littleEndian: true, ticksPerSecond: 1_000_000n, recordHeaderBytes: 16 }],
    [0xd4c3b2a1, { littleEndian: false, ticksPerSecond: 1_000_000n, recordHeaderBytes: 16 }],
    [0xa1b23c4d, { littleEndian: true, ticksPerSecond: 1_000_000_000n, recordHeaderBytes: 16 }],
    [0x4d3cb2a1, { littleEndian: false, ticksPerSecond: 1_000_000_000n, recordHeaderBytes: 16 }],
    // Alexey Kuznetzov's patched libpcap: 8 more bytes per record (ifindex, protocol, pkt_type).
    [0xa1b2cd34, { littleEndian: true, ticksPerSecond: 1_000_000n, recordHeaderBytes: 24 }],
    [0x34cdb2a1, { littleEndian: false, ticksPerSecond: 1_000_000n, recordHeaderBytes: 24 }],
  ]);

const FILE_HEADER_BYTES = 24;

export function isPcapMagic(magicLittleEndian: number): boolean {
  return MAGICS.has(magicLittleEndian);
}

/** What the file header of a classic pcap says. */
export interface PcapHeader {
  littleEndian: boolean;
  nanosecond: boolean;
  versionMajor: number;
  versionMinor: number;
  snapLength: number;
  linkType: number;
}

export class PcapReader implements FrameSource {
  readonly format = 'pcap';
  readonly warnings: CaptureWarning[] = [];
  readonly header: PcapHeader;
  private readonly clock: TickClock;
  private readonly recordHeaderBytes: number;
  private readonly littleEndian: boolean;
  private readonly fractionsPerSecond: number;
  private framesRead = 0;
  private finished = false;
  private warnedFraction = false;

  constructor(
    private readonly input: ChunkedInput,
    readonly file: string,
  ) {
    if (!input.ensure(FILE_HEADER_BYTES)) {
      throw new CaptureError(file, `pcap file header is cut short (${input.available} of 24 bytes)`, { offset: 0 });
    }
    const bytes = input.buffer;
    const at = input.start;
    const kind = MAGICS.get(bytes.readUInt32LE(at));
    if (kind === undefined) throw new CaptureError(file, 'not a pcap file (bad magic number)', { offset: 0 });
    const le = kind.littleEndian;
    const u16 = (offset: number) => (le ? bytes.readUInt16LE(at + offset) : bytes.readUInt16BE(at + offset));
    const u32 = (offset: number) => (le ? bytes.readUInt32LE(at + offset) : bytes.readUInt32BE(at + offset));
    this.header = {
      littleEndian: le,
      nanosecond: kind.ticksPerSecond === 1_000_000_000n,
      versionMajor: u16(4),
      versionMinor: u16(6),
      snapLength: u32(16),
      // The top 6 bits carry FCS information; the link type is the low 26 (libpcap's LT_LINKTYPE).
      linkType: u32(20) & 0x03ffffff,
    };
    if (this.header.versionMajor !== 2) {
      throw new CaptureError(file, `unsupported pcap version ${this.header.versionMajor}.${this.header.versionMinor}`, {
        offset: 4,
      });
    }
    this.littleEndian = le;
    this.recordHeaderBytes = kind.recordHeaderBytes;
    this.clock = new TickClock(kind.ticksPerSecond, 0n, true);
    this.fractionsPerSecond = Number(kind.ticksPerSecond);
    input.skip(FILE_HEADER_BYTES);
  }

  next(): Frame | null {
    if (this.finished) return null;
    const input = this.input;
    const headerBytes = this.recordHeaderBytes;
    const frameNumber = this.framesRead + 1;
    if (!input.ensure(headerBytes)) return this.endOfInput(frameNumber, headerBytes, 'record header');

    const view = input.view;
    let at = input.start;
    const le = this.littleEndian;
    const seconds = view.getUint32(at, le);
    const fraction = view.getUint32(at + 4, le);
    const capturedLength = view.getUint32(at + 8, le);
    const originalLength = view.getUint32(at + 12, le);
    if (capturedLength > MAX_RECORD_BYTES) {
      throw new CaptureError(
        this.file,
        `record claims ${capturedLength} captured bytes, more than the ${MAX_RECORD_BYTES} any capture holds: the file is corrupt`,
        { frame: frameNumber, offset: input.position },
      );
    }

    if (fraction >= this.fractionsPerSecond) this.warnFraction(fraction, frameNumber);

    const recordBytes = headerBytes + capturedLength;
    if (input.end - input.start < recordBytes && !input.ensure(recordBytes)) return this.endOfInput(frameNumber, recordBytes, 'record');
    at = input.start; // ensure() may have moved the data
    const data = input.slice(at + headerBytes, capturedLength);
    input.skip(recordBytes);
    this.framesRead = frameNumber;
    return new TickFrame(
      frameNumber,
      seconds,
      fraction,
      this.clock,
      capturedLength,
      originalLength,
      this.header.linkType,
      0,
      undefined,
      data,
    );
  }

  /** A fraction of a second that is a second or more: keep the arithmetic (carry), say so once. */
  private warnFraction(fraction: number, frameNumber: number): void {
    if (this.warnedFraction) return;
    this.warnedFraction = true;
    const unit = this.header.nanosecond ? 'nanoseconds' : 'microseconds';
    this.warnings.push({
      file: this.file,
      message: `timestamp has ${fraction} ${unit} past the second, out of range; carried into the seconds (later frames are not reported again)`,
      location: { frame: frameNumber, offset: this.input.position },
    });
  }

  /** Clean end, or a file cut off mid-record: keep what we have, warn about the rest. */
  private endOfInput(frameNumber: number, needed: number, what: string): null {
    this.finished = true;
    const warning = this.input.cutShortWarning(this.file, what, needed, frameNumber - 1, { frame: frameNumber });
    if (warning !== undefined) this.warnings.push(warning);
    return null;
  }
}
