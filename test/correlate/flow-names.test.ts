import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaptureError } from '../../src/capture/errors.js';
import { openCapture } from '../../src/capture/open.js';
import { flowNameAt, isLaterFragment } from '../../src/correlate/describe.js';
import { flowKeyAt, ipv4FlowName } from '../../src/correlate/flow-index.js';
import { Kind, NONE, SightingStore } from '../../src/correlate/sighting.js';
import { createDissector } from '../../src/dissect/index.js';
import { CORPUS_DIR, corpusAvailable, corpusIndex } from '../support/corpus.js';
import { FIXTURES } from './support.js';

/*
 * A flow of IPv4 packets is named from its key when first asked (Flow.name), not from its first
 * sighting as it comes: the key must give the very name the sighting gives, for every IPv4
 * sighting of the lab fixtures and the peer corpus.
 */

const dissect = createDissector({ vxlanPorts: [4789, 8472, 4899] });

interface Tally {
  compared: number;
  laterFragments: number;
  icmpWithId: number;
  icmpWithoutId: number;
  otherProtocols: number;
}

/** Compares the two names for every IPv4 sighting of `file` (up to a read error: the frames before it). */
function compareNames(file: string, tally: Tally): void {
  const store = new SightingStore();
  const reader = openCapture(file);
  try {
    for (let frame = reader.next(); frame !== null; frame = reader.next()) {
      const slot = store.add(dissect(frame), 0, 0);
      if (slot === NONE) continue;
      if (store.kind[slot] === Kind.Ipv4) {
        expect(ipv4FlowName(flowKeyAt(store, slot)), `${file} frame ${frame.index}`).toBe(flowNameAt(store, slot));
        tally.compared += 1;
        const proto = store.proto[slot]!;
        if (isLaterFragment(store.fragment[slot]!, store.typeOrFlags[slot]!, store.srcPort[slot]!)) tally.laterFragments += 1;
        else if (proto === 1) store.srcPort[slot] === NONE ? (tally.icmpWithoutId += 1) : (tally.icmpWithId += 1);
        else if (proto !== 6 && proto !== 17) tally.otherProtocols += 1;
      } else {
        expect(ipv4FlowName(flowKeyAt(store, slot))).toBeUndefined();
      }
      store.release(slot);
    }
  } catch (error) {
    if (!(error instanceof CaptureError)) throw error;
  } finally {
    reader.close();
  }
}

const newTally = (): Tally => ({ compared: 0, laterFragments: 0, icmpWithId: 0, icmpWithoutId: 0, otherProtocols: 0 });

describe('an IPv4 flow named from its key', () => {
  it('has the name of its first sighting on every lab fixture', () => {
    const tally = newTally();
    for (const scenario of readdirSync(FIXTURES, { withFileTypes: true }).filter((d) => d.isDirectory())) {
      const dir = join(FIXTURES, scenario.name);
      for (const file of readdirSync(dir).filter((f) => /\.pcap(ng)?$/.test(f))) compareNames(join(dir, file), tally);
    }
    expect(tally.compared).toBeGreaterThan(500);
    // ICMP errors (no echo id) and echoes (with one), and the mtu scenario's fragments.
    expect(tally.icmpWithId).toBeGreaterThan(0);
    expect(tally.icmpWithoutId).toBeGreaterThan(0);
    expect(tally.laterFragments).toBeGreaterThan(0);
  });

  it.skipIf(!corpusAvailable())('has the name of its first sighting on every capture of the peer corpus', () => {
    const tally = newTally();
    for (const entry of corpusIndex()) compareNames(join(CORPUS_DIR, entry.relpath), tally);
    expect(tally.compared).toBeGreaterThan(3000);
    expect(tally.laterFragments).toBeGreaterThan(0);
    expect(tally.otherProtocols).toBeGreaterThan(0);
  });
});
