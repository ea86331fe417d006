import type { CaptureWarning } from './errors.js';
import type { Frame } from './frame.js';

/**
 * The largest record or block we agree to read. Real link layers stay far below (Wireshark's
 * largest per-encapsulation maximum for ordinary links is 256 KiB); a larger length field means a
 * corrupt file, and believing it would mean a huge allocation.
 */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

/** Anything that yields frames one at a time: a pcap or pcapng file, standard input. */
export interface FrameSource {
  /** "pcap" or "pcapng". */
  readonly format: string;
  /** The name the user gave (a path, or "-" for standard input). */
  readonly file: string;
  /** Problems after which reading still ended normally (a file cut off mid-record). */
  readonly warnings: CaptureWarning[];
  /**
   * The next frame, or null at the end. Throws CaptureError where the file is corrupt; every
   * frame before that point has been returned already.
   */
  next(): Frame | null;
}
