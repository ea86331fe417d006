import type { ChunkedInput } from './chunked-input.js';
import { CaptureError, type CaptureLocation, type CaptureWarning } from './errors.js';
import { type Frame, TickClock, TickFrame } from './frame.js';
import { MAX_RECORD_BYTES, type FrameSource } from './source.js';

/*
 * pcapng (draft-ietf-opsawg-pcapng). A file is a sequence of blocks, each framed the same way:
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                          Block Type                           |
 *  |                      Block Total Length                       |
 *  /                          Block Body                           /
 *  |                      Block Total Length                       |
 *  +---------------------------------------------------------------+
 *
 * A Section Header Block starts each section and fixes the byte order for it (the next section
 * may use the other one). Interface Description Blocks number the interfaces of their section
 * from 0; each has its own link type and time resolution. Packets come in Enhanced Packet,
 * Simple Packet or (obsolete) Packet blocks. Everything else is skipped by its length.
 */

const BlockType = {
  SECTION_HEADER: 0x0a0d0d0a,
  INTERFACE_DESCRIPTION: 0x00000001,
  PACKET: 0x00000002, // obsolete, still written by old tools
  SIMPLE_PACKET: 0x00000003,
  INTERFACE_STATISTICS: 0x00000005,
  ENHANCED_PACKET: 0x00000006,
  CUSTOM: 0x00000bad,
  CUSTOM_DO_NOT_COPY: 0x40000bad,
} as const;

const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const BLOCK_FRAMING_BYTES = 12; // type + length + trailing length

/** Interface Description option codes vxdump uses. */
const IdbOption = { END: 0, NAME: 2, TSRESOL: 9, TSOFFSET: 14 } as const;

/** Section Header option codes vxdump uses. */
const ShbOption = { USERAPPL: 4 } as const;

/**
 * dumpcap (Wireshark's and tshark's capture engine) writes an Interface Statistics Block's times
 * in microseconds whatever the interface's resolution (writecap/pcapio.c takes them from
 * gettimeofday): a nanosecond capture's statistics would read as January 1970.
 */
const MICROSECOND_CLOCK = new TickClock(1_000_000n);

/** Interface Statistics option codes: the two times, then the counters. */
const IsbOption = { STARTTIME: 2, ENDTIME: 3, IFRECV: 4, IFDROP: 5, FILTERACCEPT: 6, OSDROP: 7, USRDELIV: 8 } as const;

/**
 * What an interface's Interface Statistics Blocks said: for each value, the latest block that
 * gave it (a writer may write several, and a last one without options, as the pcapng test
 * suite's test102 does); null where none did. dumpcap writes one at the end of every capture.
 */
export interface InterfaceStatistics {
  /** When the latest statistics were taken (the latest block timestamp), ns since 1970. */
  takenNs: bigint | null;
  /** When the capture started and stopped (isb_starttime, isb_endtime), ns since 1970. */
  startNs: bigint | null;
  endNs: bigint | null;
  /** Packets the interface received (isb_ifrecv), and dropped for lack of buffers (isb_ifdrop). */
  received: number | null;
  interfaceDrops: number | null;
  /** Packets the capture filter accepted (isb_filteraccept), the OS dropped (isb_osdrop), and the capture got (isb_usrdeliv). */
  filterAccepted: number | null;
  osDrops: number | null;
  delivered: number | null;
}

/** Which count each counter option gives. */
const ISB_COUNTERS = new Map<number, 'received' | 'interfaceDrops' | 'filterAccepted' | 'osDrops' | 'delivered'>([
  [IsbOption.IFRECV, 'received'],
  [IsbOption.IFDROP, 'interfaceDrops'],
  [IsbOption.FILTERACCEPT, 'filterAccepted'],
  [IsbOption.OSDROP, 'osDrops'],
  [IsbOption.USRDELIV, 'delivered'],
]);

/** One interface of the capture, as its Interface Description Block describes it. */
export interface PcapngInterface {
  /** Interface number within its section, as packet blocks and Wireshark's frame.interface_id give it. */
  id: number;
  /** 0-based number of the section that described the interface. */
  section: number;
  linkType: number;
  snapLength: number;
  name?: string;
  /** Ticks per second from if_tsresol (default 10^6). */
  ticksPerSecond: bigint;
  /** Seconds added to timestamps (if_tsoffset). */
  offsetSeconds: bigint;
  clock: TickClock;
  /** Its Interface Statistics Blocks read so far, if any (they usually come last in the file). */
  statistics?: InterfaceStatistics;
}

export class PcapngReader implements FrameSource {
  readonly format = 'pcapng';
  readonly warnings: CaptureWarning[] = [];
  /** Every interface seen so far, in file order, over all sections. */
  readonly interfaces: PcapngInterface[] = [];
  private sectionInterfaces: PcapngInterface[] = [];
  private littleEndian = true;
  private blocksRead = 0;
  private framesRead = 0;
  private finished = false;
  private warnedUnpaddedLength = false;
  /** Number of the block being read, for error locations (built only when something is wrong). */
  private blockNumber = 0;
  private sectionsRead = 0;
  /** The current section was written by dumpcap (shb_userappl), which has its own way with statistics' times. */
  private dumpcapSection = false;

  constructor(
    private readonly input: ChunkedInput,
    readonly file: string,
  ) {
    if (!input.ensure(4) || input.buffer.readUInt32LE(input.start) !== BlockType.SECTION_HEADER) {
      throw new CaptureError(file, 'not a pcapng file (does not start with a Section Header Block)', { offset: 0 });
    }
  }

  /**
   * 0-based number of the section being read: the section of the frame next() returned last.
   * With its interfaceId it names the interface, as interface numbers restart in every section.
   */
  get currentSection(): number {
    return this.sectionsRead - 1;
  }

  next(): Frame | null {
    while (!this.finished) {
      const frame = this.readBlock();
      if (frame !== null) return frame;
    }
    return null;
  }

  /** Reads one block; returns its frame if it carries a packet, else null. */
  private readBlock(): Frame | null {
    const input = this.input;
    const blockNumber = this.blocksRead + 1;
    if (!input.ensure(8)) return this.endOfInput(blockNumber, 8, 'block header');

    const type = input.view.getUint32(input.start, true); // the SHB type reads the same either way
    if (type === BlockType.SECTION_HEADER) {
      if (!input.ensure(12)) return this.endOfInput(blockNumber, 12, 'section header');
      this.littleEndian = this.sectionByteOrder(blockNumber);
    }
    const blockType = this.u32(0);
    const declaredLength = this.u32(4);
    this.blockNumber = blockNumber;
    const length = this.paddedBlockLength(blockType, declaredLength);
    if (input.end - input.start < length && !input.ensure(length)) return this.endOfInput(blockNumber, length, 'block');
    const trailer = this.u32(length - 4);
    if (trailer !== declaredLength && trailer !== length) {
      throw new CaptureError(this.file, `total block lengths (first ${length} and second ${trailer}) don't match`, this.where());
    }

    this.blocksRead = blockNumber;
    let frame: Frame | null = null;
    switch (blockType) {
      case BlockType.SECTION_HEADER:
        this.readSectionHeader(length);
        break;
      case BlockType.INTERFACE_DESCRIPTION:
        this.readInterfaceDescription(length);
        break;
      case BlockType.ENHANCED_PACKET:
        frame = this.readEnhancedPacket(length);
        break;
      case BlockType.SIMPLE_PACKET:
        frame = this.readSimplePacket(length);
        break;
      case BlockType.PACKET:
        frame = this.readObsoletePacket(length);
        break;
      case BlockType.INTERFACE_STATISTICS:
        this.readInterfaceStatistics(length);
        break;
      case BlockType.CUSTOM:
      case BlockType.CUSTOM_DO_NOT_COPY:
        // Not a packet, but Wireshark lists custom blocks as frames: count them so that our frame
        // numbers stay Wireshark's frame numbers.
        this.framesRead += 1;
        break;
      default:
        break; // name resolution, decryption secrets, unknown: not ours
    }
    input.skip(length);
    return frame;
  }

  private sectionByteOrder(blockNumber: number): boolean {
    const magicLe = this.input.buffer.readUInt32LE(this.input.start + 8);
    if (magicLe === BYTE_ORDER_MAGIC) return true;
    if (magicLe === 0x4d3c2b1a) return false;
    throw new CaptureError(this.file, `section header has a bad byte-order magic 0x${magicLe.toString(16)}`, {
      block: blockNumber,
      offset: this.input.position + 8,
    });
  }

  /**
   * The number of bytes the block occupies. Old NTAR writers stored lengths that leave out the
   * padding to 32 bits; Wireshark rounds them up and so do we, with one warning per file.
   */
  private paddedBlockLength(blockType: number, length: number): number {
    if (length % 4 === 0 && length >= BLOCK_FRAMING_BYTES && length <= MAX_RECORD_BYTES) return length; // the usual case
    const hex = `0x${blockType.toString(16).padStart(8, '0')}`;
    const where = this.where();
    if (length < BLOCK_FRAMING_BYTES) {
      throw new CaptureError(this.file, `block ${hex} has total length ${length}, less than the minimum of 12`, where);
    }
    if (length > MAX_RECORD_BYTES) {
      throw new CaptureError(
        this.file,
        `block ${hex} claims ${length} bytes, more than the ${MAX_RECORD_BYTES} any capture block holds: the file is corrupt`,
        where,
      );
    }
    if (length % 4 === 0) return length;
    if (!this.warnedUnpaddedLength) {
      this.warnedUnpaddedLength = true;
      this.warnings.push({
        file: this.file,
        message: `block ${hex} has total length ${length}, not a multiple of 4 (an old NTAR writer?); read as ${length + 4 - (length % 4)}, as Wireshark does`,
        location: where,
      });
    }
    return length + 4 - (length % 4);
  }

  /*
   *  | Byte-Order Magic | Major | Minor | Section Length (64 bits) | Options... |
   */
  private readSectionHeader(length: number): void {
    if (length < 28) throw new CaptureError(this.file, `section header block is ${length} bytes, less than 28`, this.where());
    const major = this.u16(12);
    const minor = this.u16(14);
    if (major !== 1) {
      throw new CaptureError(this.file, `unsupported pcapng section version ${major}.${minor}`, this.where());
    }
    this.sectionInterfaces = []; // interface numbers start again in every section
    this.sectionsRead += 1;
    this.dumpcapSection = false;
    this.forEachOption(24, length - 4, (code, valueAt, valueLength) => {
      if (code === ShbOption.USERAPPL) this.dumpcapSection = /^dumpcap\b/i.test(this.text(valueAt, valueLength));
    });
  }

  /*
   *  | LinkType (16) | Reserved (16) | SnapLen (32) | Options... |
   */
  private readInterfaceDescription(length: number): void {
    if (length < 20) throw new CaptureError(this.file, `interface description block is ${length} bytes, less than 20`, this.where());
    const description: PcapngInterface = {
      id: this.sectionInterfaces.length,
      section: this.sectionsRead - 1,
      linkType: this.u16(8),
      snapLength: this.u32(12),
      ticksPerSecond: 1_000_000n,
      offsetSeconds: 0n,
      clock: undefined as unknown as TickClock, // set below, once the options are known
    };
    this.forEachOption(16, length - 4, (code, valueAt, valueLength) => {
      if (code === IdbOption.NAME) {
        description.name = this.text(valueAt, valueLength);
      } else if (code === IdbOption.TSRESOL && valueLength >= 1) {
        description.ticksPerSecond = ticksPerSecond(this.input.buffer[this.input.start + valueAt]!, this.file, this.where());
      } else if (code === IdbOption.TSOFFSET && valueLength >= 8) {
        description.offsetSeconds = this.i64(valueAt);
      }
    });
    description.clock = new TickClock(description.ticksPerSecond, description.offsetSeconds);
    this.interfaces.push(description);
    this.sectionInterfaces.push(description);
  }

  /*
   *  | Interface ID | Timestamp (High) | Timestamp (Low) | Options... |
   *
   * The start and end times are timestamps of the interface's resolution, high word first; the
   * counters are 64-bit (read as numbers: exact below 2^53 packets).
   */
  private readInterfaceStatistics(length: number): void {
    if (length < 24) throw new CaptureError(this.file, `interface statistics block is ${length} bytes, less than 24`, this.where());
    const iface = this.sectionInterfaces[this.u32(8)];
    if (iface === undefined) {
      this.warnings.push({ file: this.file, message: `interface statistics for interface ${this.u32(8)}, which its section does not describe: left out`, location: this.where() });
      return;
    }
    // Its start, end and own time in the interface's resolution; dumpcap's in microseconds.
    const clock = this.dumpcapSection ? MICROSECOND_CLOCK : iface.clock;
    const statistics = (iface.statistics ??= { takenNs: null, startNs: null, endNs: null, received: null, interfaceDrops: null, filterAccepted: null, osDrops: null, delivered: null });
    // The latest; a block whose timestamp is 0 (test102's writer leaves it so) says nothing of when.
    const high = this.u32(12);
    const low = this.u32(16);
    const takenNs = high === 0 && low === 0 ? null : clock.toNanoseconds(high, low);
    if (takenNs !== null && (statistics.takenNs === null || takenNs > statistics.takenNs)) statistics.takenNs = takenNs;
    this.forEachOption(20, length - 4, (code, valueAt, valueLength) => {
      if (valueLength !== 8) return;
      if (code === IsbOption.STARTTIME) statistics.startNs = clock.toNanoseconds(this.u32(valueAt), this.u32(valueAt + 4));
      else if (code === IsbOption.ENDTIME) statistics.endNs = clock.toNanoseconds(this.u32(valueAt), this.u32(valueAt + 4));
      else {
        const counter = ISB_COUNTERS.get(code);
        if (counter !== undefined) statistics[counter] = Number(this.u64(valueAt));
      }
    });
  }

  /*
   *  | Interface ID | Timestamp (High) | Timestamp (Low) | Captured Len | Original Len |
   *  | Packet Data, padded to 32 bits ... | Options ... |
   */
  private readEnhancedPacket(length: number): Frame {
    if (length < 32) throw new CaptureError(this.file, `enhanced packet block is ${length} bytes, less than 32`, this.where());
    const iface = this.interfaceFor(this.u32(8));
    const capturedLength = this.u32(20);
    if (capturedLength > length - 32) {
      throw new CaptureError(
        this.file,
        `enhanced packet block says ${capturedLength} captured bytes but has room for ${length - 32}`,
        this.where(),
      );
    }
    return this.frame(iface, this.u32(12), this.u32(16), capturedLength, this.u32(24), 28);
  }

  /*
   *  | Original Packet Length | Packet Data ... |   (interface 0, no timestamp)
   */
  private readSimplePacket(length: number): Frame {
    if (length < 16) throw new CaptureError(this.file, `simple packet block is ${length} bytes, less than 16`, this.where());
    const iface = this.interfaceFor(0);
    const originalLength = this.u32(8);
    // The block does not say how much was captured: the original length, cut by the snap length.
    let capturedLength = Math.min(originalLength, length - 16);
    if (iface.snapLength > 0) capturedLength = Math.min(capturedLength, iface.snapLength);
    return this.frame(iface, 0, 0, capturedLength, originalLength, 12);
  }

  /*
   *  | Interface ID (16) | Drops Count (16) | Timestamp (High) | Timestamp (Low) |
   *  | Captured Len | Packet Len | Packet Data ... | Options ... |
   */
  private readObsoletePacket(length: number): Frame {
    if (length < 32) throw new CaptureError(this.file, `packet block is ${length} bytes, less than 32`, this.where());
    const iface = this.interfaceFor(this.u16(8));
    const capturedLength = this.u32(20);
    if (capturedLength > length - 32) {
      throw new CaptureError(this.file, `packet block says ${capturedLength} captured bytes but has room for ${length - 32}`, this.where());
    }
    return this.frame(iface, this.u32(12), this.u32(16), capturedLength, this.u32(24), 28);
  }

  private frame(
    iface: PcapngInterface,
    ticksHigh: number,
    ticksLow: number,
    capturedLength: number,
    originalLength: number,
    dataOffset: number,
  ): Frame {
    const at = this.input.start + dataOffset;
    this.framesRead += 1;
    return new TickFrame(
      this.framesRead,
      ticksHigh,
      ticksLow,
      iface.clock,
      capturedLength,
      originalLength,
      iface.linkType,
      iface.id,
      iface.name,
      this.input.slice(at, capturedLength),
    );
  }

  private interfaceFor(sectionInterfaceId: number): PcapngInterface {
    const iface = this.sectionInterfaces[sectionInterfaceId];
    if (iface === undefined) {
      throw new CaptureError(
        this.file,
        `packet refers to interface ${sectionInterfaceId}, but its section describes ${describeInterfaceCount(this.sectionInterfaces.length)}`,
        { ...this.where(), frame: this.framesRead + 1 },
      );
    }
    return iface;
  }

  /** Calls `visit` for each option between block offsets `from` and `to`, stopping at opt_endofopt. */
  private forEachOption(from: number, to: number, visit: (code: number, valueAt: number, valueLength: number) => void): void {
    let at = from;
    while (at + 4 <= to) {
      const code = this.u16(at);
      const valueLength = this.u16(at + 2);
      if (code === IdbOption.END) return;
      if (at + 4 + valueLength > to) return; // an option running past its block: ignore the rest, as Wireshark does
      visit(code, at + 4, valueLength);
      at += 4 + ((valueLength + 3) & ~3);
    }
  }

  private where(): CaptureLocation {
    return { block: this.blockNumber, offset: this.input.position };
  }

  private endOfInput(blockNumber: number, needed: number, what: string): null {
    this.finished = true;
    const location = { block: blockNumber, frame: this.framesRead + 1 };
    const warning = this.input.cutShortWarning(this.file, what, needed, this.framesRead, location);
    if (warning !== undefined) this.warnings.push(warning);
    return null;
  }

  // Reads relative to the start of the current block, in the section's byte order.
  private u16(offset: number): number {
    return this.input.view.getUint16(this.input.start + offset, this.littleEndian);
  }

  private u32(offset: number): number {
    return this.input.view.getUint32(this.input.start + offset, this.littleEndian);
  }

  private i64(offset: number): bigint {
    const buffer = this.input.buffer;
    const at = this.input.start + offset;
    return this.littleEndian ? buffer.readBigInt64LE(at) : buffer.readBigInt64BE(at);
  }

  private u64(offset: number): bigint {
    const buffer = this.input.buffer;
    const at = this.input.start + offset;
    return this.littleEndian ? buffer.readBigUInt64LE(at) : buffer.readBigUInt64BE(at);
  }

  private text(offset: number, length: number): string {
    const at = this.input.start + offset;
    // Options are often NUL-terminated although the spec says they need not be.
    return this.input.buffer.toString('utf8', at, at + length).replace(/\0+$/, '');
  }
}

/**
 * if_tsresol: the high bit says the base (0: 10, 1: 2), the rest is the negative exponent.
 * 10^-6 (microseconds) when absent.
 */
function ticksPerSecond(tsresol: number, file: string, where: CaptureLocation): bigint {
  const exponent = BigInt(tsresol & 0x7f);
  const base = tsresol & 0x80 ? 2n : 10n;
  const ticks = base ** exponent;
  // 2^63 is the most a 64-bit timestamp can count per second and still mean anything.
  if (ticks > 1n << 63n) throw new CaptureError(file, `interface time resolution ${base}^-${exponent} is absurd`, where);
  return ticks;
}

/** "only interface 0", "interfaces 0 to 2", "no interface": the ids a packet block may name. */
function describeInterfaceCount(count: number): string {
  if (count === 0) return 'no interface';
  return count === 1 ? 'only interface 0' : `only interfaces 0 to ${count - 1}`;
}
