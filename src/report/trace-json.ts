import { type ChangePattern, ChangePatterns } from '../correlate/changes.js';
import { packetNameAt } from '../correlate/describe.js';
import type { DecidedJourney, Flow } from '../correlate/flows.js';
import type { LossLog } from '../correlate/losses.js';
import type { SightingStore } from '../correlate/sighting.js';
import type { TraceResult } from '../correlate/trace.js';
import { ascii, CLOSE_ARRAY, CLOSE_OBJECT, COMMA, EMPTY_ARRAY, NULL, OPEN_ARRAY, QUOTE, utf8, writeAscii, writeBytes, writeNumber, writePadded } from '../dissect/json-bytes.js';
import { CHANGES_ROOM, writeChangeList, writeMacOrNull, writeNumberOrNull } from './change-bytes.js';
import { writeFlowLine } from './flow-bytes.js';
import type { LineOutput } from './output.js';
import { hasNameBytes, PACKET_NAME_ROOM, writePacketName } from './packet-name-bytes.js';
import { clockJson, icmpErrorJson, statisticsJson } from './trace-json-objects.js';

/**
 * `vxdump trace --format json`: one document, schema "vxdump-trace/1" (README "Trace JSON").
 * Packets are written as they are decided, so the document streams in constant memory; the
 * parts known only at the end (points with their counts, flows, losses) follow them.
 */
export class TraceJsonWriter {
  private packetsWritten = 0;
  private readonly patterns = new ChangePatterns();
  /**
   * The point labels as JSON strings, and the longest one's length; per point, the bytes a
   * sighting there starts with (`{"point":"node1/br0","frame":`). Made at the first packet.
   */
  private labelJson: Uint8Array[] | null = null;
  private longestLabel = 0;
  private sightingOpen: Uint8Array[] = [];
  /** A sighting's vni, ttl and MACs, as bytes kept per point. */
  private readonly headers = new HeaderBytes();
  /** Scratch: the changes of each hop of the packet being written. */
  private readonly hopChanges: ChangePattern[] = [];
  private readonly hopBytes: Uint8Array[] = [];
  /** Where a pattern's bytes are written before they are kept. */
  private readonly scratch = new Uint8Array(CHANGES_ROOM + 1);
  /** baseNs() split into seconds and nanoseconds, for the timestamps. */
  private base = 0n;
  private baseSeconds = 0;
  private baseFraction = 0;

  constructor(
    private readonly out: LineOutput,
    private readonly labels: () => readonly string[],
    private readonly baseNs: () => bigint,
  ) {}

  start(): void {
    this.out.line('{"schema":"vxdump-trace/1","packets":[');
  }

  /**
   * One packet, written as bytes straight from the sighting store into the output buffer: no
   * record per sighting and no string for the packet (building one and encoding it took a fifth
   * of a JSON trace). Each point label and way of changing is encoded once.
   */
  decided({ journey, flow, store, lost, fragmented, resegmented, expired, missed, differing }: DecidedJourney): void {
    const labels = this.labelJson ?? this.prepare();
    const sightings = journey.sightings;
    // packetName's words and numbers are ASCII with nothing JSON escapes: written as they are,
    // those of TCP and UDP straight from the store.
    const nameText = hasNameBytes(store, sightings[0]!) ? null : packetNameAt(store, sightings[0]!);
    // Each hop's changes first: their bytes are cached, and their length sizes the room needed.
    const hopChanges = this.hopChanges;
    const hopBytes = this.hopBytes;
    // Labels: the missed points, and two each for lost, fragmented, resegmented and expired.
    let room = PACKET_ROOM + (nameText === null ? PACKET_NAME_ROOM : nameText.length) + 2 + (missed.length + 8) * this.longestLabel + sightings.length * (SIGHTING_ROOM + this.longestLabel);
    for (let i = 1; i < sightings.length; i++) {
      const pattern = this.patterns.of(store, sightings[i - 1]!, sightings[i]!, differing[i]!);
      hopChanges[i] = pattern;
      hopBytes[i] = this.patternBytes(pattern);
      room += hopBytes[i]!.length;
    }
    const out = this.out;
    out.reserve(room);
    const buf = out.bytes;
    let pos = out.used;
    if (this.packetsWritten > 0) buf[pos++] = COMMA;
    pos = writeBytes(buf, pos, ID);
    pos = writeNumber(buf, pos, journey.id);
    pos = writeBytes(buf, pos, FLOW);
    pos = writeNumber(buf, pos, flow.id);
    pos = writeBytes(buf, pos, NAME);
    buf[pos++] = QUOTE;
    pos = nameText === null ? writePacketName(buf, pos, store, sightings[0]!) : writeAscii(buf, pos, nameText);
    buf[pos++] = QUOTE;
    pos = writeBytes(buf, pos, SIGHTINGS);
    for (let i = 0; i < sightings.length; i++) {
      const slot = sightings[i]!;
      if (i > 0) buf[pos++] = COMMA;
      pos = writeBytes(buf, pos, this.sightingOpen[store.point[slot]!]!);
      pos = writeNumber(buf, pos, store.frame[slot]!);
      pos = writeBytes(buf, pos, TIMESTAMP);
      pos = this.writeTimestamp(buf, pos, store.timeNs[slot]!);
      pos = writeBytes(buf, pos, DELTA);
      pos = i === 0 ? writeBytes(buf, pos, NULL) : writeNumber(buf, pos, store.correctedNs[slot]! - store.correctedNs[sightings[i - 1]!]!);
      pos = writeBytes(buf, pos, LENGTH);
      pos = writeNumber(buf, pos, store.length[slot]!);
      pos = writeBytes(buf, pos, this.headers.of(store, slot));
      pos = i === 0 ? writeBytes(buf, pos, EMPTY_ARRAY) : writeChanges(buf, pos, hopChanges[i]!, hopBytes[i]!, store.length[sightings[i - 1]!]!, store.length[slot]!);
      buf[pos++] = CLOSE_OBJECT;
    }
    pos = writeBytes(buf, pos, LOST);
    pos = writeHop(buf, pos, lost, labels);
    pos = writeBytes(buf, pos, FRAGMENTED);
    pos = writeHop(buf, pos, fragmented, labels);
    pos = writeBytes(buf, pos, RESEGMENTED);
    pos = writeHop(buf, pos, resegmented, labels);
    pos = writeBytes(buf, pos, EXPIRED);
    pos = writeHop(buf, pos, expired, labels);
    pos = writeBytes(buf, pos, MISSED);
    for (let i = 0; i < missed.length; i++) {
      if (i > 0) buf[pos++] = COMMA;
      pos = writeBytes(buf, pos, labels[missed[i]!]!);
    }
    pos = writeBytes(buf, pos, ICMP_ERROR);
    // Rare (a packet a router sent an error about): written through JSON.stringify, its room
    // reserved here rather than for every packet.
    if (journey.icmpError === null) pos = writeBytes(buf, pos, NULL);
    else {
      const json = utf8(JSON.stringify(icmpErrorJson(journey.icmpError, this.labels())));
      // reserve() may write out what the buffer holds (this packet's start) and begin afresh.
      out.used = pos;
      out.reserve(json.length + PACKET_ROOM);
      pos = writeBytes(out.bytes, out.used, json);
    }
    pos = writeBytes(out.bytes, pos, QUOTES);
    pos = journey.quotes === 0 ? writeBytes(out.bytes, pos, NULL) : writeNumber(out.bytes, pos, journey.quotes);
    pos = writeBytes(out.bytes, pos, PACKET_END);
    out.used = pos;
    this.packetsWritten += 1;
  }

  /**
   * What every packet needs from the trace's start (its labels and base time, fixed before the
   * first packet is decided), made once: the label bytes are returned.
   */
  private prepare(): Uint8Array[] {
    const labels = this.labels().map((label) => utf8(JSON.stringify(label)));
    this.longestLabel = Math.max(0, ...labels.map((bytes) => bytes.length));
    // A plain Uint8Array, as every other piece written (a Buffer would make writeBytes polymorphic).
    this.sightingOpen = labels.map((label) => new Uint8Array(Buffer.concat([POINT, label, FRAME])));
    // Split once: bigint arithmetic for every sighting cost more than the rest of its text.
    const base = this.baseNs();
    this.base = base;
    this.baseSeconds = Number(base / 1_000_000_000n);
    this.baseFraction = Number(base % 1_000_000_000n);
    this.labelJson = labels;
    return labels;
  }

  /** The capture's own time of a sighting, as the decimal string of ns since 1970. */
  private writeTimestamp(buf: Uint8Array, pos: number, timeNs: number): number {
    const base = this.base;
    const total = this.baseFraction + timeNs;
    const carry = Math.floor(total / 1e9);
    const seconds = this.baseSeconds + carry;
    buf[pos++] = QUOTE;
    // Before 1970 and 1 s after it (no capture has such times): the exact bigint's digits.
    if (seconds <= 0) pos = writeAscii(buf, pos, (base + BigInt(timeNs)).toString());
    else pos = writePadded(buf, writeNumber(buf, pos, seconds), total - carry * 1e9, 9);
    buf[pos++] = QUOTE;
    return pos;
  }

  /** A pattern's changes as JSON bytes, without the closing bracket (a length change may follow). */
  private patternBytes(pattern: ChangePattern): Uint8Array {
    // Made once per pattern: ChangePatterns hands out one object per way of changing.
    if (pattern.json !== null) return pattern.json;
    const scratch = this.scratch;
    scratch[0] = OPEN_ARRAY;
    return (pattern.json = scratch.slice(0, writeChangeList(scratch, 1, pattern)));
  }

  /**
   * The members after the packets, written one item per line: a trace may have a hundred
   * thousand flows, and one JSON.stringify of them all would hold every flow twice over (as
   * objects and as one string) at the very end of the run.
   */
  end(result: TraceResult, losses: LossLog): void {
    const labels = result.points.map((p) => p.point.label);
    const points = result.points.map((p) => ({
      label: p.point.label,
      node: p.point.node,
      interface: p.point.iface,
      file: p.point.file,
      frames: p.frames,
      unidentified: p.unidentified,
      cut: p.cut,
      duplicates: p.duplicates,
      statistics: statisticsJson(p.statistics),
    }));
    // Close the packets array, then the remaining members of the same object.
    this.out.line(`],"points":${JSON.stringify(points)},"order":${JSON.stringify(result.order.points.map((i) => labels[i]))},`);
    this.out.line(`"orderSource":${JSON.stringify(result.order.source)},"clock":${JSON.stringify(result.clock.map(clockJson))},`);
    // The two totals are a direction by definition.
    this.flowArray('directions', result.directions, labels, true);
    this.flowArray('flows', result.flows, labels);
    this.array('losses', losses.all, (g) => ({
      flow: g.flow.id,
      after: labels[g.after],
      before: labels[g.before],
      count: g.count,
      smallestLength: g.smallestLength,
      largestCrossed: g.largestCrossed,
      packets: g.packets.map((p) => ({ ...p, icmpError: icmpErrorJson(p.icmpError, labels) })),
    }));
    const unanswered = result.flows.filter((f) => f.unanswered).length;
    const expired = result.flows.reduce((n, f) => n + f.expired, 0);
    this.out.line(`"totals":${JSON.stringify({ packets: result.packets, matched: result.matched, lost: losses.total, expired, unanswered })}}`);
  }

  /** `"name":[` flow, flow, ... `],` with each flow on its own line (flow-bytes.ts). */
  private flowArray(name: string, flows: readonly Flow[], labels: readonly string[], directionKnown?: boolean): void {
    // The label bytes the packets were written with (with the writer thread, made now).
    const labelJson = this.labelJson ?? this.prepare();
    this.out.line(`"${name}":[`);
    for (let i = 0; i < flows.length; i++) writeFlowLine(this.out, flows[i]!, labelJson, labels, directionKnown ?? flows[i]!.directionKnown, i > 0);
    this.out.line('],');
  }

  /** `"name":[` item, item, ... `],` with each item on its own line. */
  private array<T>(name: string, items: readonly T[], json: (item: T) => unknown): void {
    this.out.line(`"${name}":[`);
    for (let i = 0; i < items.length; i++) this.out.line(`${i === 0 ? '' : ','}${JSON.stringify(json(items[i]!))}`);
    this.out.line('],');
  }
}

const ID = ascii('{"id":');
const FLOW = ascii(',"flow":');
const NAME = ascii(',"name":');
const SIGHTINGS = ascii(',"sightings":[');
const POINT = ascii('{"point":');
const FRAME = ascii(',"frame":');
const TIMESTAMP = ascii(',"timestampNs":');
const DELTA = ascii(',"deltaNs":');
const LENGTH = ascii(',"length":');
const VNI = ascii(',"vni":');
const TTL = ascii(',"ttl":');
const ETH_SRC = ascii(',"ethSrc":');
const ETH_DST = ascii(',"ethDst":');
const CHANGES = ascii(',"changes":');
const LENGTH_CHANGE_FROM = ascii('{"field":"frame.len","from":');
const LENGTH_CHANGE_TO = ascii(',"to":');
const LOST = ascii('],"lost":');
const FRAGMENTED = ascii(',"fragmented":');
const RESEGMENTED = ascii(',"resegmented":');
const EXPIRED = ascii(',"expired":');
const MISSED = ascii(',"missed":[');
const ICMP_ERROR = ascii('],"icmpError":');
const QUOTES = ascii(',"quotes":');
const PACKET_END = ascii('}\n');
const HOP_AFTER = ascii('{"after":');
const HOP_BEFORE = ascii(',"before":');
/** Bytes a packet needs besides its name, labels, sightings and changes; and a sighting besides its label and changes. */
const PACKET_ROOM = 256;
const SIGHTING_ROOM = 384;

/** A hop's changes: the pattern's bytes, then this packet's own length change if the length changed. */
function writeChanges(buf: Uint8Array, pos: number, pattern: ChangePattern, patternBytes: Uint8Array, lengthBefore: number, lengthAfter: number): number {
  pos = writeBytes(buf, pos, patternBytes);
  if (pattern.lengthDelta !== 0) {
    if (pattern.mask !== 0) buf[pos++] = COMMA;
    pos = writeBytes(buf, pos, LENGTH_CHANGE_FROM);
    pos = writeNumber(buf, pos, lengthBefore);
    pos = writeBytes(buf, pos, LENGTH_CHANGE_TO);
    pos = writeNumber(buf, pos, lengthAfter);
    buf[pos++] = CLOSE_OBJECT;
  }
  buf[pos++] = CLOSE_ARRAY;
  return pos;
}

/**
 * The part of a sighting from its VNI to its changes, `,"vni":11,"ttl":63,"ethSrc":"...",
 * "ethDst":"...","changes":`, as bytes. At one point nearly every packet one way has the same
 * VNI, TTL and MACs: kept per point and way (a few entries each, by the source MAC), the part is
 * copied whole rather than written field by field (a tenth of a JSON trace's writing).
 */
class HeaderBytes {
  /** Per entry: point, vni, ttl, ethSrc, ethDst; NaN where empty. */
  private readonly keys = new Float64Array(HEADER_ENTRIES * 5).fill(Number.NaN);
  private readonly values: Uint8Array[] = new Array<Uint8Array>(HEADER_ENTRIES).fill(EMPTY_ARRAY);
  private readonly scratch = new Uint8Array(128);

  of(store: SightingStore, slot: number): Uint8Array {
    const point = store.point[slot]!;
    const vni = store.vni[slot]!;
    const ttl = store.ttl[slot]!;
    const ethSrc = store.ethSrc[slot]!;
    const ethDst = store.ethDst[slot]!;
    // `| 0`: a MAC's low 32 bits, exactly (`%` on a double above 2^31 is a call into fmod).
    const entry = Math.imul((ethSrc | 0) ^ Math.imul(ethDst | 0, 0x85ebca6b) ^ Math.imul(point * 256 + ttl, 0xc2b2ae35), 0x9e3779b1) >>> HEADER_SHIFT;
    const keys = this.keys;
    const at = entry * 5;
    if (keys[at] === point && keys[at + 1] === vni && keys[at + 2] === ttl && keys[at + 3] === ethSrc && keys[at + 4] === ethDst) return this.values[entry]!;
    const buf = this.scratch;
    let pos = writeBytes(buf, 0, VNI);
    pos = writeNumberOrNull(buf, pos, vni);
    pos = writeBytes(buf, pos, TTL);
    pos = writeNumberOrNull(buf, pos, ttl);
    pos = writeBytes(buf, pos, ETH_SRC);
    pos = writeMacOrNull(buf, pos, ethSrc);
    pos = writeBytes(buf, pos, ETH_DST);
    pos = writeMacOrNull(buf, pos, ethDst);
    pos = writeBytes(buf, pos, CHANGES);
    keys[at] = point;
    keys[at + 1] = vni;
    keys[at + 2] = ttl;
    keys[at + 3] = ethSrc;
    keys[at + 4] = ethDst;
    return (this.values[entry] = buf.slice(0, pos));
  }
}

/** HeaderBytes' entries (a power of two), and the shift that takes a 32-bit hash's top bits for one. */
const HEADER_ENTRIES = 4096;
const HEADER_SHIFT = 32 - 12;

/** `lost`, `fragmented`, `resegmented` or `expired`: null, or the two points the packet went missing between. */
function writeHop(buf: Uint8Array, pos: number, hop: { after: number; before: number } | null, labels: readonly Uint8Array[]): number {
  if (hop === null) return writeBytes(buf, pos, NULL);
  pos = writeBytes(buf, pos, HOP_AFTER);
  pos = writeBytes(buf, pos, labels[hop.after]!);
  pos = writeBytes(buf, pos, HOP_BEFORE);
  pos = writeBytes(buf, pos, labels[hop.before]!);
  buf[pos] = CLOSE_OBJECT;
  return pos + 1;
}
