import { type Frame, frameNanosecondOfSecond, frameSeconds } from '../capture/frame.js';
import type { CaptureReader } from '../capture/open.js';
import type { CaptureWarning } from '../capture/errors.js';
import type { Dissector } from '../dissect/index.js';
import type { CapturePoint, PointRegistry } from './points.js';
import { NONE, type SightingStore } from './sighting.js';
import { TraceError } from './trace-error.js';

/**
 * Where trace's merge gets one capture point's sightings from, in file order: read and dissected
 * here (InlineSource) or by the decode worker (decode-feed.ts). Both give the same sightings,
 * counts and warnings, so the trace does not depend on which one ran.
 */
export interface SightingSource {
  /** The next sighting, in a new slot of the trace's store (timeNs set), or NONE at the end. */
  next(): number;
  /** Bytes of the capture read so far, for progress. */
  readonly position: number;
  /** Trace time of the point's first frame, identified or not; NaN before it is read. */
  readonly firstFrameNs: number;
  /** Frames of the point read so far, and those with no Ethernet header to identify them by. */
  readonly frames: number;
  readonly unidentified: number;
  /** The reader's warnings, complete once next() has returned NONE. */
  readonly warnings: readonly CaptureWarning[];
  close(): void;
}

/** The trace's base time (TraceResult.baseNs), split so that no frame needs a bigint. */
export interface TimeBase {
  seconds: number;
  nanoseconds: number;
}

export function timeBaseOf(baseNs: bigint): TimeBase {
  return { seconds: Number(baseNs / 1_000_000_000n), nanoseconds: Number(baseNs % 1_000_000_000n) };
}

/** Time since the base as a number, without a bigint per frame: exact for 104 days. */
export function traceTimeNs(frame: Frame, base: TimeBase): number {
  return (frameSeconds(frame) - base.seconds) * 1e9 + (frameNanosecondOfSecond(frame) - base.nanoseconds);
}

/**
 * A point's sightings read and dissected on the calling thread. A multi-interface pcapng is read
 * once per interface (`filtered`): its writer buffers each interface apart, so the file as a
 * whole is out of time order by up to a buffer's worth, while each interface's frames are in order.
 */
export class InlineSource implements SightingSource {
  frames = 0;
  unidentified = 0;
  firstFrameNs = NaN;

  constructor(
    private readonly reader: CaptureReader,
    private readonly store: SightingStore,
    private readonly dissect: Dissector,
    private readonly base: TimeBase,
    /** The one point this source delivers; the others' frames in the same file are skipped. */
    private readonly point: CapturePoint,
    /** With `filtered`, who tells which point a frame belongs to. */
    private readonly filter: { registry: PointRegistry; capture: number; knownPoints: number; sampleFrames: number } | undefined,
  ) {}

  get position(): number {
    return this.reader.position;
  }

  get warnings(): readonly CaptureWarning[] {
    return this.reader.warnings;
  }

  next(): number {
    const { reader, filter } = this;
    for (let frame = reader.next(); frame !== null; frame = reader.next()) {
      if (filter !== undefined) {
        const point = filter.registry.pointOf(filter.capture, reader, frame);
        if (point.index >= filter.knownPoints) {
          throw new TraceError(`${point.file}: interface ${point.iface} first appears after the first ${filter.sampleFrames} frames; raise --sample`);
        }
        if (point !== this.point) continue;
      }
      const timeNs = traceTimeNs(frame, this.base);
      this.frames += 1;
      if (this.frames === 1) this.firstFrameNs = timeNs;
      const slot = this.store.add(this.dissect(frame), this.point.index, timeNs);
      if (slot !== NONE) return slot;
      this.unidentified += 1;
    }
    return NONE;
  }

  close(): void {
    this.reader.close();
  }
}
