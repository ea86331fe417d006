import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CaptureError } from '../../src/capture/errors.js';
import { openCapture } from '../../src/capture/open.js';
import { CORPUS_DIR, corpusAvailable, corpusIndex } from '../support/corpus.js';
import { type TsharkFrameList, tsharkAvailable, tsharkFrames } from '../support/tshark.js';

/*
 * Every capture of the peer corpus (tcpdump's tests, the pcapng conformance suite in both byte
 * orders, Wireshark's samples) read by us and by tshark: the same frames, numbered the same,
 * with the same lengths, interfaces and timestamps to the nanosecond.
 */

/**
 * Files where tshark and vxdump disagree on purpose. Each says who is right and why; anything
 * not listed here must agree exactly.
 */
interface Disagreement {
  reason: string;
  /** Frames whose timestamps differ, where the reason says tshark's value is wrong. */
  timestampsDifferAt?: number[];
}

const INVALID_FRACTION =
  'tshark is wrong on frame 3: its fraction (2147483648 µs or ns past the second) overflows a 32-bit ' +
  'nanosecond count in tshark and prints as .000000000; vxdump carries it into the seconds and warns.';

const DISAGREEMENTS: Record<string, Disagreement> = {
  'tcpdump/timestamp_invalid_micro.pcap': { reason: INVALID_FRACTION, timestampsDifferAt: [3] },
  'tcpdump/timestamp_invalid_nano.pcap': { reason: INVALID_FRACTION, timestampsDifferAt: [3] },
  'wireshark/wiki/test007.ntar': {
    reason:
      'tshark is wrong: its Simple Packet Block reader expects the trailer right after snaplen (96) bytes of data, ' +
      'but the block has room for 123 (spec: the block length bounds the data). vxdump reads the one packet.',
  },
  'wireshark/wiki/test010.ntar': { reason: 'the same Simple Packet Block misreading by tshark as test007.ntar.' },
  'wireshark/wiki/pcap-ng_Wi-Fi_Bluetooth_USB_Cooked_timestamps_issue_1.ntar': {
    reason:
      'not a file-format problem: tshark stops at frame 412 because a Bluetooth frame is too short for its ' +
      'pseudo-header, a link-layer check. vxdump reads all 413 frames; the 411 tshark read agree.',
  },
};

const haveCorpus = corpusAvailable();
const haveTshark = tsharkAvailable();
if (!haveCorpus) console.warn(`SKIPPED: peer corpus not found at ${CORPUS_DIR} (CI has it beside the repo)`);
else if (!haveTshark) console.warn('SKIPPED: tshark is not installed (apt-get install tshark)');

interface OurFrames {
  frames: { number: number; timestampNs: bigint; capturedLength: number; originalLength: number; interfaceId: number }[];
  error: Error | undefined;
}

function readOurs(path: string): OurFrames {
  const frames: OurFrames['frames'] = [];
  try {
    for (const frame of openCapture(path)) {
      frames.push({
        number: frame.index,
        timestampNs: frame.timestampNs,
        capturedLength: frame.capturedLength,
        originalLength: frame.originalLength,
        interfaceId: frame.interfaceId,
      });
    }
    return { frames, error: undefined };
  } catch (error) {
    return { frames, error: error as Error };
  }
}

/** Runs tshark over the corpus two files at a time (this machine has two cores). */
async function tsharkOverCorpus(paths: string[]): Promise<Map<string, TsharkFrameList>> {
  const results = new Map<string, TsharkFrameList>();
  let next = 0;
  const worker = async () => {
    while (next < paths.length) {
      const path = paths[next++]!;
      results.set(path, await tsharkFrames(join(CORPUS_DIR, path)));
    }
  };
  await Promise.all([worker(), worker()]);
  return results;
}

describe.skipIf(!haveCorpus || !haveTshark)('peer corpus: frames as tshark reads them', () => {
  const entries = haveCorpus ? corpusIndex() : [];
  let tshark: Map<string, TsharkFrameList>;

  beforeAll(async () => {
    tshark = await tsharkOverCorpus(entries.map((entry) => entry.relpath));
  }, 300_000);

  it('covers the whole corpus index', () => {
    expect(entries.length).toBeGreaterThan(250);
    expect(entries.filter((entry) => entry.fileType.startsWith('pcapng')).length).toBeGreaterThan(100);
  });

  it.each(entries.map((entry) => [entry.relpath]))('%s', (relpath) => {
    const theirs = tshark.get(relpath)!;
    const ours = readOurs(join(CORPUS_DIR, relpath));
    const disagreement = DISAGREEMENTS[relpath];

    // tshark lists pcapng custom blocks as frames; they are not packets, so we only count them.
    const theirPackets = theirs.frames.filter((frame) => frame.encapsulation !== undefined);

    if (disagreement !== undefined && theirs.error !== undefined) {
      // tshark stopped early or failed; we read at least as much, and what both read agrees (below).
      expect(ours.error, disagreement.reason).toBeUndefined();
      expect(ours.frames.length, disagreement.reason).toBeGreaterThanOrEqual(Math.max(1, theirPackets.length));
    } else if (theirs.error === undefined) {
      expect(ours.error, 'vxdump failed where tshark did not').toBeUndefined();
      expect(ours.frames.map((frame) => frame.number)).toEqual(theirPackets.map((frame) => frame.number));
    } else {
      // tshark could not read the whole file: we must say clearly why, naming the file.
      expect(ours.error, `tshark said: ${theirs.error}`).toBeInstanceOf(CaptureError);
      expect(ours.error!.message).toContain(join(CORPUS_DIR, relpath));
    }

    // Every frame both read: same number, lengths, interface and time to the nanosecond.
    const common = Math.min(theirPackets.length, ours.frames.length);
    for (let i = 0; i < common; i++) {
      const mine = ours.frames[i]!;
      const expected = theirPackets[i]!;
      const where = `${relpath} frame ${expected.number}`;
      expect(mine.number, where).toBe(expected.number);
      if (disagreement?.timestampsDifferAt?.includes(expected.number)) {
        expect(mine.timestampNs, `${where}: ${disagreement.reason}`).not.toBe(expected.timestampNs);
      } else {
        // A Simple Packet Block has no timestamp: tshark shows none, we give 0.
        expect(mine.timestampNs, `${where} timestamp`).toBe(expected.timestampNs ?? 0n);
      }
      expect(mine.capturedLength, `${where} captured length`).toBe(expected.capturedLength);
      expect(mine.originalLength, `${where} original length`).toBe(expected.originalLength);
      if (expected.interfaceId !== undefined) expect(mine.interfaceId, `${where} interface`).toBe(expected.interfaceId);
    }
  });
});
