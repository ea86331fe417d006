import { type Frame, frameNanosecondOfSecond, frameSeconds } from '../capture/frame.js';
import type { CaptureReader } from '../capture/open.js';
import type { CaptureWarning } from '../capture/errors.js';
import type { InterfaceStatistics } from '../capture/pcapng.js';
import { StreamInterfaces } from './capture-statistics.js';
import { type CapturePoint, frameInterface, LATE, type PointRegistry } from './points.js';
import { NONE, type SightingStore } from './sighting.js';
import type { SightingDecoder } from './sighting-decoder.js';

/**
 * Where trace's merge gets one capture point's sightings from, in file order: read and decoded
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
  /** Frames of the point read so far, and those with no Ethernet (or cooked) header to identify them by. */
  readonly frames: number;
  readonly unidentified: number;
  /** Frames the snap length cut inside their headers (see PointStats.cut). */
  readonly cut: number;
  /** The reader's warnings, complete once next() has returned NONE. */
  readonly warnings: readonly CaptureWarning[];
  /** What the pcapng's statistics blocks said of the point's interface, once next() has returned NONE; null if nothing. */
  readonly statistics: InterfaceStatistics | null;
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
 * Interfaces of a capture first met after the sample, when the points are named and ordered
 * already: their frames are left out, and each is warned of once, rather than failing a trace
 * that may have run for a while (a `tcpdump -i any` interface quiet at first, an interface a
 * pcapng describes late).
 */
export class LateInterfaces {
  readonly warnings: CaptureWarning[] = [];
  private readonly seen = new Set<number>();

  constructor(
    private readonly file: string,
    private readonly sampleFrames: number,
  ) {}

  leftOut(iface: { key: number; name: string }, frame: Frame): void {
    if (this.seen.has(iface.key)) return;
    this.seen.add(iface.key);
    this.warnings.push({
      file: this.file,
      location: { frame: frame.index },
      message: `${iface.name} first appears after the first ${this.sampleFrames} frames: its frames are left out of the trace (raise --sample to include them)`,
    });
  }
}

/**
 * A point's sightings read and decoded on the calling thread. A multi-interface pcapng is read
 * once per interface (`filtered`): its writer buffers each interface apart, so the file as a
 * whole is out of time order by up to a buffer's worth, while each interface's frames are in order.
 */
export class InlineSource implements SightingSource {
  frames = 0;
  unidentified = 0;
  cut = 0;
  firstFrameNs = NaN;
  private readonly late: LateInterfaces;
  private readonly interfaces: StreamInterfaces;

  constructor(
    private readonly reader: CaptureReader,
    private readonly store: SightingStore,
    private readonly decoder: SightingDecoder,
    private readonly base: TimeBase,
    /** The one point this source delivers; the others' frames in the same file are skipped. */
    private readonly point: CapturePoint,
    /**
     * Who tells which point a frame belongs to: for a file of several points, and for a pcapng
     * of one, which may describe another interface later.
     */
    private readonly filter: { registry: PointRegistry; capture: number; sampleFrames: number } | undefined,
  ) {
    this.late = new LateInterfaces(point.file, filter?.sampleFrames ?? 0);
    this.interfaces = new StreamInterfaces(reader);
  }

  get statistics(): InterfaceStatistics | null {
    return this.interfaces.statistics();
  }

  get position(): number {
    return this.reader.position;
  }

  get warnings(): readonly CaptureWarning[] {
    return this.late.warnings.length === 0 ? this.reader.warnings : [...this.reader.warnings, ...this.late.warnings];
  }

  next(): number {
    const { reader, filter } = this;
    for (let frame = reader.next(); frame !== null; frame = reader.next()) {
      if (filter !== undefined && this.pointOf(frame, filter) !== this.point) continue;
      this.interfaces.note(frame);
      const timeNs = traceTimeNs(frame, this.base);
      this.frames += 1;
      if (this.frames === 1) this.firstFrameNs = timeNs;
      const slot = this.decoder.add(this.store, frame, this.point.index, timeNs);
      if (this.decoder.cut) this.cut += 1;
      if (slot !== NONE) return slot;
      this.unidentified += 1;
    }
    return NONE;
  }

  close(): void {
    this.reader.close();
  }

  /** Which of the file's points a frame belongs to; undefined for one left out. */
  private pointOf(frame: Frame, filter: NonNullable<InlineSource['filter']>): CapturePoint | undefined {
    const { registry, capture } = filter;
    const point = registry.streamPointOf(capture, this.reader, frame);
    if (point !== LATE) return point;
    this.late.leftOut(frameInterface(registry.splitsByIndex(capture), this.reader, frame), frame);
    return undefined;
  }
}
