import type { Frame } from '../capture/frame.js';
import { createDissector, DEFAULT_VXLAN_PORTS, type Dissector, isTruncated } from '../dissect/index.js';
import { CommonFrames } from './common-frames.js';
import { NONE, type SightingStore } from './sighting.js';

export interface SightingDecoderOptions {
  vxlanPorts?: readonly number[] | undefined;
  vxlanHeuristic?: boolean | undefined;
}

/**
 * Turns frames into sightings: a common frame straight from its bytes (common-frames.ts), any
 * other through the dissector and SightingStore.addAt. Trace's sample, its inline sources and
 * its decode worker all decode through one of these, so a frame gets the same sighting whichever
 * of them reads it.
 */
export class SightingDecoder {
  /** The last frame decoded was cut by the snap length inside its headers (PointStats.cut). */
  cut = false;
  private readonly dissect: Dissector;
  private readonly common: CommonFrames;

  constructor(options: SightingDecoderOptions) {
    // Trace never looks at checksums: summing every payload byte would be wasted.
    this.dissect = createDissector({ vxlanPorts: options.vxlanPorts, vxlanHeuristic: options.vxlanHeuristic, verifyChecksums: false });
    this.common = new CommonFrames(options.vxlanPorts ?? DEFAULT_VXLAN_PORTS, options.vxlanHeuristic === true);
  }

  /**
   * Writes the sighting of `frame` into `store`'s slot `at`. Returns false for a frame with
   * nothing to identify it by (no complete Ethernet or Linux cooked header).
   */
  decodeInto(store: SightingStore, at: number, frame: Frame, point: number, timeNs: number): boolean {
    // The common frames are whole, so never cut.
    this.cut = false;
    if (this.common.decode(store, at, frame, point, timeNs)) return true;
    const packet = this.dissect(frame);
    this.cut = isTruncated(packet);
    return store.addAt(at, packet, point, timeNs);
  }

  /** The sighting of `frame` in a new slot of `store`; NONE for a frame with nothing to identify it by. */
  add(store: SightingStore, frame: Frame, point: number, timeNs: number): number {
    const at = store.take();
    if (this.decodeInto(store, at, frame, point, timeNs)) return at;
    store.release(at);
    return NONE;
  }
}
