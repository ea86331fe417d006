import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCapture } from '../../src/capture/open.js';
import type { InterfaceStatistics, PcapngReader } from '../../src/capture/pcapng.js';
import { CORPUS_DIR, corpusAvailable, corpusIndex } from '../support/corpus.js';
import { FIXTURES } from '../correlate/support.js';

/*
 * pcapng Interface Statistics Blocks: when each interface's capture started and stopped, and what
 * it received and dropped. The pcapng test suite's generator scripts (tests-lua-definitions) say
 * what its files hold; the files dumpcap wrote in the corpus must have every frame between their
 * capture's start and end.
 */

const haveCorpus = corpusAvailable();
const HADRIELK = join(CORPUS_DIR, 'pcapng-suite/hadrielk');

/** Every interface's statistics after reading the whole file. */
function statisticsOf(file: string): (InterfaceStatistics | undefined)[] {
  const capture = openCapture(file);
  for (const frame of capture) void frame;
  return (capture.details as PcapngReader).interfaces.map((iface) => iface.statistics);
}

/** The test scripts' `timestamp`: UInt64(0x64ca47aa, 0x0004c397), in µs (no if_tsresol), as ns; and 1000 µs after it. */
const TIMESTAMP_NS = ((0x0004c397n << 32n) | 0x64ca47aan) * 1000n;
const THOUSAND_LATER_NS = TIMESTAMP_NS + 1000n * 1000n;
const NOTHING: InterfaceStatistics = { takenNs: null, startNs: null, endNs: null, received: null, interfaceDrops: null, filterAccepted: null, osDrops: null, delivered: null };

describe.skipIf(!haveCorpus)('pcapng interface statistics', () => {
  it.each(['output_le', 'output_be'])('test102 (%s): the latest value of each, as the generator script wrote them', (order) => {
    const [eth0, null1, iface2] = statisticsOf(join(HADRIELK, order, 'advanced/test102.pcapng'));
    // test102.lua: ISB-0 gives all seven options; the blocks before and after it give none.
    expect(eth0).toEqual({ ...NOTHING, startNs: TIMESTAMP_NS, endNs: THOUSAND_LATER_NS, received: 100, interfaceDrops: 1, filterAccepted: 9, osDrops: 42, delivered: 6 });
    // Two blocks without options, at `timestamp` and `timestamp - 1000`: the later time stands.
    expect(null1).toEqual({ ...NOTHING, takenNs: TIMESTAMP_NS });
    expect(iface2).toEqual({ ...NOTHING, takenNs: THOUSAND_LATER_NS, startNs: TIMESTAMP_NS, endNs: THOUSAND_LATER_NS, filterAccepted: 42, interfaceDrops: 10 });
  });

  it.each(['output_le', 'output_be'])('test014 (%s): statistics of interfaces without a single packet', (order) => {
    const expected = { ...NOTHING, takenNs: TIMESTAMP_NS, startNs: TIMESTAMP_NS, endNs: THOUSAND_LATER_NS, interfaceDrops: 10 };
    expect(statisticsOf(join(HADRIELK, order, 'basic/test014.pcapng'))).toEqual([expected, expected, expected]);
  });

  it('dumpcap\'s captures: every frame between its capture\'s start and end, but in the one sample whose frames were retimed', () => {
    const dumpcapFiles = corpusIndex()
      .map((entry) => entry.relpath)
      .filter((relpath) => /\.pcapng$/.test(relpath) && readFileSync(join(CORPUS_DIR, relpath)).includes('Counters provided by dumpcap'));
    expect(dumpcapFiles.length).toBeGreaterThanOrEqual(10);
    const outside: string[] = [];
    let checked = 0;
    for (const relpath of dumpcapFiles) {
      const capture = openCapture(join(CORPUS_DIR, relpath));
      const frames = [...capture].map((frame) => ({ iface: frame.interfaceId, ns: frame.timestampNs }));
      for (const iface of (capture.details as PcapngReader).interfaces) {
        const own = frames.filter((f) => f.iface === iface.id);
        const { startNs, endNs, received, interfaceDrops } = iface.statistics!;
        expect([startNs, endNs, received, interfaceDrops].every((v) => v !== null), relpath).toBe(true);
        if (own.some(({ ns }) => ns < startNs! || ns > endNs!)) outside.push(relpath);
        checked += own.length;
      }
    }
    expect(checked).toBeGreaterThan(500);
    // GSM_GCC's frames lie 52 s before its capture started: the sample's frames were retimed
    // after the capture (tshark shows the same frame times). Read as the interfaces' nanoseconds
    // rather than dumpcap's microseconds, http2-16-ssl and vsock-1 would be listed too.
    expect(outside).toEqual(['pcapng-suite/pcarp/GSM_GCC.pcapng']);
    // The one whose interface dropped packets (a Wi-Fi monitor capture).
    expect(statisticsOf(join(CORPUS_DIR, 'pcapng-suite/pcarp/dmg_assoc_req.pcapng'))[0]).toMatchObject({ received: 3648, interfaceDrops: 125 });
  });
});

describe('pcapng interface statistics of the lab\'s dumpcap capture', () => {
  it('node1-multi.pcapng (nanosecond interfaces): its captures started before their first frame and stopped after their last, by seconds at most', () => {
    const capture = openCapture(join(FIXTURES, 'p2p-4789', 'node1-multi.pcapng'));
    const frames = [...capture].map((frame) => ({ iface: frame.interfaceId, ns: frame.timestampNs }));
    const interfaces = (capture.details as PcapngReader).interfaces;
    expect(interfaces).toHaveLength(3);
    for (const iface of interfaces) {
      const own = frames.filter((f) => f.iface === iface.id).map((f) => f.ns);
      const { startNs, endNs, received, interfaceDrops } = iface.statistics!;
      expect(startNs! <= own[0]! && own[0]! - startNs! < 5_000_000_000n).toBe(true);
      expect(endNs! >= own[own.length - 1]! && endNs! - own[own.length - 1]! < 5_000_000_000n).toBe(true);
      expect({ received, interfaceDrops }).toEqual({ received: own.length, interfaceDrops: 0 });
    }
  });
});
