import { statSync } from 'node:fs';
import { type Frame, frameNanosecondOfSecond } from '../capture/frame.js';
import { type CaptureReader, openCapture } from '../capture/open.js';
import type { CaptureWarning } from '../capture/errors.js';
import { type InterfaceStatistics, type PcapngInterface, PcapngReader } from '../capture/pcapng.js';
import { statedEndNs, statisticsOutsideFrames } from './capture-statistics.js';
import { type ClockOffset, estimateClockOffsets, type PointSample } from './clock.js';
import { ClockFollower } from './clock-drift.js';
import { type CaptureSpan, type DecidedJourney, type Flow, FlowTable, type HopSizes, type TracedPacket } from './flows.js';
import { type Journey, JourneyMatcher, JourneyPool, sameFrameAgain } from './journeys.js';
import { givenOrder, inferOrder, type PathOrder } from './path.js';
import { type CapturePoint, type PointArgument, PointRegistry } from './points.js';
import { NONE, SightingStore } from './sighting.js';
import { DecodeFeed, workerWorthIt } from './decode-feed.js';
import { SightingDecoder } from './sighting-decoder.js';
import { InlineSource, type SightingSource, type TimeBase, timeBaseOf, traceTimeNs } from './sighting-sources.js';
import { TraceError } from './trace-error.js';

export { TraceError };

/**
 * `vxdump trace`, the library side: follow every packet over several capture points.
 *
 *   1. sample: the first frames of every capture, reduced to sightings;
 *   2. clocks: each node's offset from the packets two nodes share (clock.ts);
 *   3. order: --path, or inferred from the sample's journeys (path.ts);
 *   4. stream: all captures merged by corrected time through the matcher (journeys.ts) into
 *      the flow table (flows.ts), which hands out each traced packet as it is decided.
 *
 * Memory is bounded by the matching window and the hold, not by the captures' size.
 */
export interface TraceOptions {
  vxlanPorts?: readonly number[];
  vxlanHeuristic?: boolean;
  /** Longest time between two sightings of one packet (default 200 ms). */
  windowNs?: number;
  /** How long a packet waits before its loss is decided (default: the window). */
  holdNs?: number;
  /** Point labels in path order (--path). */
  path?: readonly string[];
  /** The points are in path order as given (diff: A, then B). */
  fixedOrder?: boolean;
  /** Node → clock offset in ns relative to the reference node (--clock-offset). */
  clockOffsets?: ReadonlyMap<string, number>;
  /** Node → interface index → name, for the points of `tcpdump -i any` captures (--links). */
  interfaceNames?: ReadonlyMap<string, ReadonlyMap<number, string>>;
  /** Frames per capture read for the clock and order estimates (default 20,000). */
  sampleFrames?: number;
  /** Called once the points, clocks and order are known, before the first packet. */
  onStart?: (start: { labels: string[]; baseNs: bigint; order: PathOrder; clock: readonly ClockOffset[] }) => void;
  /** Called with every traced packet, in the order the packets were first seen. */
  onPacket?: (packet: TracedPacket) => void;
  /** Instead of onPacket: every journey as the sighting store holds it, valid during the call. */
  onDecided?: (decided: DecidedJourney) => void;
  /**
   * Flows keep only what loss decisions need: no shared changes, latency medians or direction
   * totals in the result (diff, which counts changes and latency itself, from onDecided).
   */
  flowsForLossesOnly?: boolean;
  /** Instead of onPacket: called with the lost packets only, which costs much less. */
  onLost?: (packet: TracedPacket) => void;
  /** Called now and then while streaming with the fraction of the captures read (0 to 1). */
  onProgress?: (fraction: number) => void;
}

export interface PointStats {
  readonly point: CapturePoint;
  frames: number;
  /** Frames with no Ethernet (or cooked) header to identify them by. */
  unidentified: number;
  /** Frames the snap length cut inside their headers (`tcpdump -s 96`): they match no other point's. */
  cut: number;
  /** Frames left out as the same frame again just after it (a port mirror's second copy; see DUPLICATE_WITHIN_NS). */
  duplicates: number;
  /**
   * When the capture started and ended, on the trace's clock: its first frame and last sighting,
   * or the end its pcapng statistics give, where they do and hold its frames.
   */
  span: CaptureSpan;
  /** What the pcapng's statistics blocks said of the capture (drops, start, end); null if nothing. */
  statistics: InterfaceStatistics | null;
}

export interface TraceResult {
  readonly points: readonly PointStats[];
  readonly order: PathOrder;
  readonly clock: readonly ClockOffset[];
  readonly flows: readonly Flow[];
  /** All packets seen at two points or more, along the point order and against it. */
  readonly directions: readonly [Flow, Flow];
  /** The largest packet that went from one point straight on to another, all traffic together. */
  readonly hopSizes: HopSizes;
  /** Packets followed (journeys), and how many were seen at two points or more. */
  readonly packets: number;
  readonly matched: number;
  /** ns since the epoch that every timeNs counts from. */
  readonly baseNs: bigint;
  readonly warnings: readonly CaptureWarning[];
  /** Who read and decoded the single-point captures: a worker thread when they are large (decode-feed.ts). */
  readonly decoder: 'worker thread' | 'main thread';
  /** The longest time between two sightings of one packet, and the wait for a reply at the captures' end. */
  readonly windowNs: number;
}

export const DEFAULT_WINDOW_NS = 200e6;
const DEFAULT_SAMPLE_FRAMES = 20_000;

/** One capture point being merged: its sightings, and the first one not yet merged (the head). */
interface Stream {
  readonly point: CapturePoint;
  readonly source: SightingSource;
  /** Store slot of the next sighting, NONE when the stream has ended. */
  head: number;
  /** The head's corrected time (Infinity once ended), and the last merged one's. */
  headNs: number;
  lastNs: number;
  /** The head's time as the capture recorded it (once ended: the last sighting's). */
  headRawNs: number;
  /** The capture's size in bytes, for progress. */
  readonly bytes: number;
  /** Its capture's warnings are told at its end (one stream per multi-interface capture does). */
  readonly tellsWarnings: boolean;
}

export function trace(args: readonly PointArgument[], options: TraceOptions = {}): TraceResult {
  if (args.length === 0) throw new TraceError('trace needs at least one capture');
  // The captures are read twice (a sample first, for clocks and order), which a pipe cannot do.
  if (args.some((arg) => arg.file === '-')) throw new TraceError('trace reads every capture twice, so it cannot read standard input: save it to a file first');
  // A worker to decode large captures, spawned first so that it loads while the sample is read,
  // and stopped however the trace ends (it closes whatever captures it opened).
  const sizes = args.map((arg) => statSync(arg.file, { throwIfNoEntry: false })?.size ?? 0);
  const worker = workerWorthIt(sizes.reduce((sum, size) => sum + size, 0)) ? DecodeFeed.spawn() : undefined;
  try {
    return traceCaptures(args, options, sizes, worker);
  } finally {
    worker?.stop();
  }
}

/** trace() once its arguments are checked: `worker` decodes if it starts, else this thread does. */
function traceCaptures(args: readonly PointArgument[], options: TraceOptions, sizes: readonly number[], worker: DecodeFeed | undefined): TraceResult {
  const windowNs = options.windowNs ?? DEFAULT_WINDOW_NS;
  const decoder = new SightingDecoder({ vxlanPorts: options.vxlanPorts, vxlanHeuristic: options.vxlanHeuristic });
  const registry = new PointRegistry(options.interfaceNames);
  const warnings: CaptureWarning[] = [];

  // 1-3. Sample, clocks, order. The worker begins decoding as soon as the points are known,
  // which for most captures is before their samples are read: it then works while they are.
  const sampleFrames = options.sampleFrames ?? DEFAULT_SAMPLE_FRAMES;
  const store = new SightingStore();
  let feed: DecodeFeed | undefined;
  const pointsKnown = (base: TimeBase): void => {
    if (worker !== undefined) feed = beginWorker(worker, args, registry, store, base, sampleFrames, options);
  };
  const { baseNs, clock, clocks, order, tickNs } = survey(args, registry, decoder, sampleFrames, windowNs, options, pointsKnown);
  const points = registry.points;
  const position: number[] = [];
  order.points.forEach((point, at) => (position[point] = at));
  options.onStart?.({ labels: points.map((p) => p.label), baseNs, order, clock });

  // 4. Stream.
  const stats: PointStats[] = points.map((point) => ({ point, frames: 0, unidentified: 0, cut: 0, duplicates: 0, span: { startNs: Infinity, endNs: Infinity }, statistics: null }));
  const journeys = new JourneyPool();
  const table = new FlowTable(store, {
    position,
    tickNs,
    spans: stats.map((s) => s.span),
    windowNs,
    holdNs: options.holdNs ?? windowNs,
    onPacket: options.onPacket ?? options.onLost ?? (() => {}),
    onlyLost: options.onPacket === undefined,
    onDecided: options.onDecided,
    journeys,
    forLossesOnly: options.flowsForLossesOnly,
  });
  let matched = 0;
  const onComplete = (journey: Journey): void => {
    if (journey.sightings.length > 1) matched += 1;
    table.add(journey);
  };
  const matcher = new JourneyMatcher(store, windowNs, onComplete, journeys);
  const base = timeBaseOf(baseNs);
  const streams: Stream[] = [];
  // A worker that did not start: the captures are read here.
  if (feed !== undefined && !feed.started()) feed = undefined;
  try {
    openStreams(args, sizes, registry, store, decoder, base, sampleFrames, feed, streams);
    const advance = (stream: Stream): void => {
      const slot = stream.source.next();
      stream.head = slot;
      if (slot !== NONE) {
        const timeNs = store.timeNs[slot]!;
        stream.headRawNs = timeNs;
        stream.headNs = store.correctedNs[slot] = timeNs - clocks.offsetAt(stream.point.index, timeNs);
        return;
      }
      stream.headNs = Infinity;
      // The capture has ended: the point's span ends at its last packet, or later if the capture says it ran on.
      const stat = stats[stream.point.index]!;
      stat.span.endNs = stream.lastNs;
      stat.statistics = stream.source.statistics;
      const statedEnd = statedEndNs(stat.statistics, baseNs, stream.source.firstFrameNs, stream.headRawNs);
      if (statedEnd === 'inconsistent') warnings.push(statisticsOutsideFrames(stream.point, stat.statistics!));
      else if (statedEnd !== null) {
        stat.span.endNs = Math.max(stream.lastNs, statedEnd - clocks.offsetAt(stream.point.index, statedEnd));
      }
      stat.frames = stream.source.frames;
      stat.unidentified = stream.source.unidentified;
      stat.cut = stream.source.cut;
      if (stream.tellsWarnings) warnings.push(...stream.source.warnings);
    };
    for (const stream of streams) {
      advance(stream);
      // The point's span starts at its first frame, identified or not.
      const firstFrameNs = stream.source.firstFrameNs;
      if (!Number.isNaN(firstFrameNs)) stats[stream.point.index]!.span.startNs = firstFrameNs - clocks.offsetAt(stream.point.index, firstFrameNs);
    }
    // Each stream's share read, averaged: a multi-interface file is read once per interface.
    const fractionRead = () => streams.reduce((sum, s) => sum + (s.bytes > 0 ? s.source.position / s.bytes : 1), 0) / streams.length;
    let merged = 0;
    for (;;) {
      if (options.onProgress !== undefined && (++merged & 0xffff) === 0) options.onProgress(fractionRead());
      // The earliest head; on equal times the stream given first.
      let earliest: Stream | undefined;
      let earliestNs = Infinity;
      for (const stream of streams) {
        if (stream.headNs < earliestNs) {
          earliest = stream;
          earliestNs = stream.headNs;
        }
      }
      if (earliest === undefined) break;
      const slot = earliest.head;
      const now = earliestNs;
      earliest.lastNs = now;
      matcher.add(slot);
      const joined = matcher.joined;
      if (joined !== null) clocks.observe(joined, slot, store);
      table.decideBefore(now);
      advance(earliest);
    }
    matcher.finish();
    table.finish();
    matcher.duplicates.forEach((count, point) => (stats[point]!.duplicates = count ?? 0));
  } finally {
    for (const stream of streams) stream.source.close();
  }

  const flows = [...table.flows].sort((a, b) => a.firstNs - b.firstNs || a.id - b.id);
  const decodedBy = feed === undefined ? 'main thread' : 'worker thread';
  return {
    points: stats,
    order,
    clock: clocks.result(),
    flows,
    directions: table.directions,
    hopSizes: table.hopSizes,
    packets: matcher.started,
    matched,
    baseNs,
    warnings,
    decoder: decodedBy,
    windowNs,
  };
}

/** A stream not yet begun: its head is read by the merge's first advance. */
function newStream(point: CapturePoint, source: SightingSource, bytes: number, tellsWarnings: boolean): Stream {
  return { point, source, head: NONE, headNs: Infinity, lastNs: -Infinity, headRawNs: NaN, bytes, tellsWarnings };
}

/**
 * Has `worker` decode the single-point captures (see openStreams), once their points are known;
 * returns it, or undefined if there is nothing for it to decode.
 */
function beginWorker(
  worker: DecodeFeed,
  args: readonly PointArgument[],
  registry: PointRegistry,
  store: SightingStore,
  base: TimeBase,
  sampleFrames: number,
  options: TraceOptions,
): DecodeFeed | undefined {
  const decoded = wholeFileCaptures(args, registry).map((capture) => ({
    file: args[capture]!.file,
    point: registry.pointsOf(capture)[0]!.index,
    wholeInterface: registry.wholeInterfaceOf(capture),
  }));
  if (decoded.length === 0) return undefined;
  const vxlanPorts = options.vxlanPorts === undefined ? undefined : [...options.vxlanPorts];
  worker.begin(decoded, store, { vxlanPorts, vxlanHeuristic: options.vxlanHeuristic, base, sampleFrames });
  return worker;
}

/** The captures of one point each (by argument index): a worker can decode them. */
function wholeFileCaptures(args: readonly PointArgument[], registry: PointRegistry): number[] {
  return args.map((_, capture) => capture).filter((capture) => !registry.splitsByInterface(capture));
}

/**
 * A stream per capture point, filled into `streams` (so that the caller closes whatever opened).
 * The points of single-point captures come from `feed`, the decode worker, if it began; else,
 * and for a multi-interface pcapng, they are read here, the latter once per interface, as its
 * frames are out of time order across interfaces (each writer buffers its interface apart).
 */
function openStreams(
  args: readonly PointArgument[],
  sizes: readonly number[],
  registry: PointRegistry,
  store: SightingStore,
  decoder: SightingDecoder,
  base: TimeBase,
  sampleFrames: number,
  feed: DecodeFeed | undefined,
  streams: Stream[],
): void {
  // In argument order: the merge breaks ties between equal times by it.
  const wholeFiles = wholeFileCaptures(args, registry);
  const ordered: Stream[] = [];
  try {
    args.forEach((arg, capture) => {
      const bytes = sizes[capture]!;
      const whole = wholeFiles.indexOf(capture);
      if (whole >= 0) {
        const point = registry.pointsOf(capture)[0]!;
        const wholeInterface = registry.wholeInterfaceOf(capture);
        // A pcapng of one interface so far is held to it: another one it describes later is left out.
        const filter = wholeInterface === undefined ? undefined : { registry, capture, sampleFrames };
        const source = feed?.sources[whole] ?? new InlineSource(openCapture(arg.file), store, decoder, base, point, filter);
        ordered.push(newStream(point, source, bytes, true));
        return;
      }
      registry.pointsOf(capture).forEach((point, i) => {
        const filter = { registry, capture, sampleFrames };
        const source = new InlineSource(openCapture(arg.file), store, decoder, base, point, filter);
        ordered.push(newStream(point, source, bytes, i === 0));
      });
    });
  } finally {
    // Whatever opened is the caller's to close, also when opening one of them failed.
    streams.push(...ordered);
  }
}

/**
 * The first frames of every capture (the sample) give the points, the base time, the clock
 * offsets (and the follower that keeps them while streaming; the sample's sightings leave it
 * as it starts) and, without --path, the order. The sample is dropped before streaming starts.
 */
function survey(
  args: readonly PointArgument[],
  registry: PointRegistry,
  decoder: SightingDecoder,
  sampleFrames: number,
  windowNs: number,
  options: TraceOptions,
  pointsKnown: (base: TimeBase) => void,
): { baseNs: bigint; clock: ClockOffset[]; clocks: ClockFollower; order: PathOrder; tickNs: number[] } {
  const store = new SightingStore();
  const { baseNs, samples, sampleSightings, tickNs } = sampleCaptures(args, registry, decoder, sampleFrames, store, pointsKnown);
  args.forEach((arg, capture) => {
    const only = registry.onlyOf(capture);
    if (only !== undefined && registry.pointsOf(capture).length === 0) {
      throw new TraceError(`${arg.label}=${arg.file}: no frame of interface ${only} in the first ${sampleFrames} frames (--sample)`);
    }
  });
  const points = registry.points;
  const clock = estimateClockOffsets(points, samples, store, options.clockOffsets);
  const clocks = new ClockFollower(points, clock, tickNs);
  for (const slot of sampleSightings) store.correctedNs[slot] = store.timeNs[slot]! - clocks.offsetAt(store.point[slot]!, store.timeNs[slot]!);
  let order: PathOrder;
  if (options.fixedOrder) {
    order = { points: points.map((p) => p.index), source: 'given' };
  } else if (options.path !== undefined) {
    const given = givenOrder(options.path, points);
    if (typeof given === 'string') throw new TraceError(given);
    order = given;
  } else {
    order = inferOrder(points.length, sampleJourneys(sampleSightings, store, windowNs), store, tickNs);
  }
  return { baseNs, clock, clocks, order, tickNs };
}

/**
 * Reads the first `limit` frames of every capture: the points (a multi-interface pcapng names
 * its interfaces here), the base time, per point the sightings by identity, and each point's
 * clock resolution as its frames show it (tickNs: 1000 for µs, 1 for ns). Calls `pointsKnown`
 * once every capture is registered: before the samples are read, unless a `tcpdump -i any`
 * capture makes its points from them.
 */
function sampleCaptures(
  args: readonly PointArgument[],
  registry: PointRegistry,
  decoder: SightingDecoder,
  limit: number,
  store: SightingStore,
  pointsKnown: (base: TimeBase) => void,
): { baseNs: bigint; samples: PointSample[]; sampleSightings: number[]; tickNs: number[] } {
  const captures: CaptureReader[] = [];
  const firstFrames: (Frame | null)[] = [];
  try {
    for (const arg of args) {
      const capture = openCapture(arg.file);
      captures.push(capture);
      // The first frame is read now: registering the capture (below) needs the interfaces
      // described before it.
      firstFrames.push(capture.next());
    }
    let baseNs: bigint | undefined;
    for (const frame of firstFrames) if (frame !== null && (baseNs === undefined || frame.timestampNs < baseNs)) baseNs = frame.timestampNs;
    baseNs ??= 0n;

    const base = timeBaseOf(baseNs);
    const samples: PointSample[] = [];
    const sampleSightings: number[] = [];
    const tickNs: number[] = [];
    // The points are numbered in the order of the arguments, also those a capture makes as its
    // frames show them (tcpdump -i any): the captures after such a one are registered after its sample.
    let registered = 0;
    const register = (index: number): void => {
      registry.addCapture(args[index]!, captures[index]!, firstFrames[index]!, interfacesInSample(args[index]!.file, captures[index]!, limit));
      registered = index + 1;
      if (registered === captures.length) pointsKnown(base);
    };
    while (registered < captures.length && (registered === 0 || !registry.splitsByIndex(registered - 1))) register(registered);
    captures.forEach((capture, index) => {
      if (index === registered) register(index);
      let frame: Frame | null = firstFrames[index]!;
      for (let read = 0; frame !== null && read < limit; read++, frame = capture.next()) {
        const point = registry.pointOf(index, capture, frame);
        // An interface of the file the user did not ask for (node1/if2=any.pcap).
        if (point === undefined) continue;
        tickNs[point.index] = coarsestTick(tickNs[point.index] ?? MAX_TICK_NS, frameNanosecondOfSecond(frame));
        const slot = decoder.add(store, frame, point.index, traceTimeNs(frame, base));
        if (slot === NONE) continue;
        const sample = (samples[point.index] ??= new Map());
        // The payload, where the capture holds it, tells apart packets whose headers agree (an IP ID of 0).
        const payload = store.payloadHash[slot]!;
        const identity = payload === NONE ? store.identity[slot]! : (store.identity[slot]! + payload) % 2 ** 52;
        const earlier = sample.get(identity);
        // The same frame again (a port mirror's second copy) is left out, as the stream leaves it
        // out; another packet seen twice at one point is useless for telling clocks apart.
        if (earlier !== undefined && earlier !== NONE && sameFrameAgain(store, earlier, slot)) {
          store.release(slot);
          continue;
        }
        sampleSightings.push(slot);
        sample.set(identity, earlier === undefined ? slot : NONE);
      }
    });
    for (let i = 0; i < registry.points.length; i++) {
      samples[i] ??= new Map();
      tickNs[i] ??= 1;
    }
    return { baseNs, samples, sampleSightings, tickNs };
  } finally {
    for (const capture of captures) capture.close();
  }
}

/**
 * The interfaces a pcapng describes within its first `limit` frames. A writer may describe an
 * interface only when its first packet comes, and whether the file is one point or several must
 * be known before its sample is read: with one interface described so far, the sample is read
 * ahead once to see.
 */
function interfacesInSample(file: string, capture: CaptureReader, limit: number): readonly PcapngInterface[] {
  if (!(capture.details instanceof PcapngReader)) return [];
  if (capture.details.interfaces.length > 1) return capture.details.interfaces;
  const ahead = openCapture(file);
  try {
    for (let read = 0; read < limit && ahead.next() !== null; read++);
    return (ahead.details as PcapngReader).interfaces;
  } finally {
    ahead.close();
  }
}

/** The coarsest clock resolution a capture is taken to have: a millisecond. */
const MAX_TICK_NS = 1_000_000;

/** The largest power of ten, at most `tickNs`, that divides the frame's nanoseconds. */
function coarsestTick(tickNs: number, nanosecondOfSecond: number): number {
  while (tickNs > 1 && nanosecondOfSecond % tickNs !== 0) tickNs /= 10;
  return tickNs;
}

function sampleJourneys(sightings: number[], store: SightingStore, windowNs: number): Journey[] {
  const journeys: Journey[] = [];
  const matcher = new JourneyMatcher(store, windowNs, (journey) => journeys.push(journey));
  for (const slot of [...sightings].sort((x, y) => store.correctedNs[x]! - store.correctedNs[y]!)) matcher.add(slot);
  matcher.finish();
  return journeys;
}
