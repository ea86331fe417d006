import { describe, expect, it } from 'vitest';
import { Journey } from '../../src/correlate/journeys.js';
import { SegmentLog } from '../../src/correlate/resegmentation.js';
import { Kind, SightingStore } from '../../src/correlate/sighting.js';

/*
 * The bookkeeping behind "resegmented": which bytes of a TCP stream a point saw in other packets.
 * The offload fixture shows it on the kernel's real cuts and joins (trace.test.ts); here are the
 * cases it must refuse, made to order: a retransmission and bytes seen only in part.
 */

const WINDOW_NS = 200e6;
const [P, Q] = [0, 1];
const ACK = 1962792697;
const SEQ = 2 ** 32 - 1296; // the stream wraps 2^32 within the first segment below

const store = new SightingStore();

/** A journey of one TCP data segment, seen at `points` (at 1 ms). */
function segment(seq: number, length: number, points: number[], timeNs = 1e6): { journey: Journey; slots: number[] } {
  const slots = points.map((point) => {
    const slot = store.allocate();
    store.point[slot] = point;
    store.correctedNs[slot] = timeNs;
    store.kind[slot] = Kind.Ipv4;
    store.proto[slot] = 6;
    store.seq[slot] = seq % 2 ** 32;
    store.ack[slot] = ACK;
    store.payloadLength[slot] = length;
    return slot;
  });
  const journey = new Journey().start(1, 0, slots[0]!, timeNs);
  for (const slot of slots.slice(1)) journey.add(slot, timeNs);
  return { journey, slots };
}

describe('TCP bytes carried in other packets', () => {
  it('finds a large segment seen at P carried on to Q in smaller ones, across the sequence wrap', () => {
    const log = new SegmentLog(store, WINDOW_NS);
    const large = segment(SEQ, 4000, [P]);
    for (const [offset, length] of [[0, 1348], [1348, 1348], [2696, 1304]]) log.note(segment(SEQ + offset!, length!, [Q]).journey);
    log.note(large.journey);
    expect(log.carriedElsewhere(large.slots[0]!, P, Q)).toBe(true);
  });

  it('does not when part of the bytes is missing at Q', () => {
    const log = new SegmentLog(store, WINDOW_NS);
    const large = segment(SEQ, 4000, [P]);
    for (const [offset, length] of [[0, 1348], [2696, 1304]]) log.note(segment(SEQ + offset!, length!, [Q]).journey);
    expect(log.carriedElsewhere(large.slots[0]!, P, Q)).toBe(false);
  });

  it('does not for a retransmission, which passed P too: the first copy is still lost', () => {
    const log = new SegmentLog(store, WINDOW_NS);
    const dropped = segment(SEQ, 1348, [P]);
    log.note(dropped.journey);
    // Sent again 20 ms later, seen at P and Q; noted as its flow's path may be longer.
    log.note(segment(SEQ, 1348, [P, Q], 21e6).journey);
    expect(log.carriedElsewhere(dropped.slots[0]!, P, Q)).toBe(false);
  });

  it('does not beyond the window, nor once forgotten', () => {
    const log = new SegmentLog(store, WINDOW_NS);
    const large = segment(SEQ, 1348, [P]);
    log.note(segment(SEQ, 1348, [Q], 1e6 + WINDOW_NS + 1).journey);
    expect(log.carriedElsewhere(large.slots[0]!, P, Q)).toBe(false);
    log.note(segment(SEQ, 1348, [Q], 2e6).journey);
    expect(log.carriedElsewhere(large.slots[0]!, P, Q)).toBe(true);
    log.forgetBefore(3e6);
    expect(log.carriedElsewhere(large.slots[0]!, P, Q)).toBe(false);
  });
});
