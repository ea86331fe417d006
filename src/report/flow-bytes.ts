import type { Flow, Hop } from '../correlate/flows.js';
import { ascii, CLOSE_ARRAY, CLOSE_OBJECT, COMMA, EMPTY_ARRAY, NULL, OPEN_ARRAY, utf8, writeBool, writeBytes, writeNumber } from '../dissect/json-bytes.js';
import { CHANGES_ROOM, writeChangeList } from './change-bytes.js';
import type { LineOutput } from './output.js';
import { icmpErrorJson } from './trace-json-objects.js';

/**
 * A flow's JSON line (trace's `flows` and `directions`), written as bytes: byte for byte
 * JSON.stringify(flowJson(flow, labels, directionKnown)), which stays the definition
 * (test/report/flow-bytes.test.ts holds these bytes to it). A trace may end with a hundred thousand flows; as objects made,
 * stringified and encoded, they took 2.7 s at the end of a 6 × 1M trace, where nothing else runs.
 *
 * `labels` are the point labels as JSON strings (bytes, quotes included), `names` as text.
 */
export function writeFlowLine(out: LineOutput, flow: Flow, labels: readonly Uint8Array[], names: readonly string[], directionKnown: boolean, comma: boolean): void {
  // The rare parts go through JSON.stringify: an ICMP error, fields that varied.
  const name = utf8(JSON.stringify(flow.name));
  const icmpError = flow.icmpError === null ? NULL : utf8(JSON.stringify(icmpErrorJson(flow.icmpError, names)));
  const hops = flow.hops;
  const varying = hops.map((hop) => hop.varying).map((fields) => (fields.length === 0 ? EMPTY_ARRAY : utf8(JSON.stringify(fields))));
  const longestLabel = labels.reduce((longest, label) => Math.max(longest, label.length), 0);
  let room = FLOW_ROOM + name.length + icmpError.length + flow.path.length * (longestLabel + 1) + 24 * (flow.vnis.length + flow.quotedFlows.length);
  for (let i = 0; i < hops.length; i++) room += HOP_ROOM + 2 * longestLabel + CHANGES_ROOM + varying[i]!.length;
  out.reserve(room);
  const buf = out.bytes;
  let pos = out.used;
  if (comma) buf[pos++] = COMMA;
  pos = writeBytes(buf, pos, ID);
  pos = writeNumber(buf, pos, flow.id);
  pos = writeBytes(buf, pos, NAME);
  pos = writeBytes(buf, pos, name);
  pos = writeBytes(buf, pos, VNIS);
  pos = writeNumbers(buf, pos, [...flow.vnis].sort((a, b) => a - b));
  pos = writeBytes(buf, pos, flow.forward ? FORWARD : BACKWARD);
  pos = writeBool(buf, pos, directionKnown);
  pos = writeBytes(buf, pos, PATH);
  pos = writeLabels(buf, pos, flow.path, labels);
  pos = writeBytes(buf, pos, REVERSE);
  pos = flow.reverse === null ? writeBytes(buf, pos, NULL) : writeNumber(buf, pos, flow.reverse.id);
  pos = writeBytes(buf, pos, UNANSWERED);
  pos = writeBool(buf, pos, flow.unanswered);
  pos = writeBytes(buf, pos, ASKED_AT_CAPTURE_END);
  pos = writeBool(buf, pos, flow.askedAtCaptureEnd);
  pos = writeBytes(buf, pos, PACKETS);
  pos = writeNumber(buf, pos, flow.packets);
  pos = writeBytes(buf, pos, LOST);
  pos = writeNumber(buf, pos, flow.lost);
  pos = writeBytes(buf, pos, RESEGMENTED);
  pos = writeNumber(buf, pos, flow.resegmented);
  pos = writeBytes(buf, pos, EXPIRED);
  pos = writeNumber(buf, pos, flow.expired);
  pos = writeBytes(buf, pos, ICMP_ERRORS);
  pos = writeNumber(buf, pos, flow.icmpErrors);
  pos = writeBytes(buf, pos, ICMP_ERROR);
  pos = writeBytes(buf, pos, icmpError);
  pos = writeBytes(buf, pos, QUOTED_FLOWS);
  pos = writeNumbers(buf, pos, flow.quotedFlows.map((f) => f.id));
  pos = writeBytes(buf, pos, HOPS);
  for (let i = 0; i < hops.length; i++) {
    if (i > 0) buf[pos++] = COMMA;
    pos = writeHop(buf, pos, hops[i]!, labels, varying[i]!);
  }
  pos = writeBytes(buf, pos, FLOW_END);
  out.used = pos;
}

/** `{"from":...,"to":...,"packets":...,"latency":{...},"changes":[...],"varying":[...]}` */
function writeHop(buf: Uint8Array, pos: number, hop: Hop, labels: readonly Uint8Array[], varying: Uint8Array): number {
  pos = writeBytes(buf, pos, HOP_FROM);
  pos = writeBytes(buf, pos, labels[hop.from]!);
  pos = writeBytes(buf, pos, HOP_TO);
  pos = writeBytes(buf, pos, labels[hop.to]!);
  pos = writeBytes(buf, pos, HOP_PACKETS);
  pos = writeNumber(buf, pos, hop.packets);
  pos = writeBytes(buf, pos, MEDIAN);
  pos = writeJsonNumber(buf, pos, hop.latency.median);
  pos = writeBytes(buf, pos, MIN);
  pos = writeJsonNumber(buf, pos, hop.latency.min);
  pos = writeBytes(buf, pos, MAX);
  pos = writeJsonNumber(buf, pos, hop.latency.max);
  pos = writeBytes(buf, pos, EXACT);
  pos = writeBool(buf, pos, hop.latency.exact);
  pos = writeBytes(buf, pos, CHANGES);
  const changes = hop.changeValues;
  if (changes !== null) pos = writeChangeList(buf, pos, changes);
  pos = writeBytes(buf, pos, VARYING);
  pos = writeBytes(buf, pos, varying);
  buf[pos++] = CLOSE_OBJECT;
  return pos;
}

/** A number as JSON.stringify writes it: null for NaN and the infinities (a hop's min before any delay). */
function writeJsonNumber(buf: Uint8Array, pos: number, n: number): number {
  return Number.isFinite(n) ? writeNumber(buf, pos, n) : writeBytes(buf, pos, NULL);
}

function writeNumbers(buf: Uint8Array, pos: number, values: readonly number[]): number {
  buf[pos++] = OPEN_ARRAY;
  for (let i = 0; i < values.length; i++) {
    if (i > 0) buf[pos++] = COMMA;
    pos = writeNumber(buf, pos, values[i]!);
  }
  buf[pos++] = CLOSE_ARRAY;
  return pos;
}

function writeLabels(buf: Uint8Array, pos: number, points: readonly number[], labels: readonly Uint8Array[]): number {
  buf[pos++] = OPEN_ARRAY;
  for (let i = 0; i < points.length; i++) {
    if (i > 0) buf[pos++] = COMMA;
    pos = writeBytes(buf, pos, labels[points[i]!]!);
  }
  buf[pos++] = CLOSE_ARRAY;
  return pos;
}

const ID = ascii('{"id":');
const NAME = ascii(',"name":');
const VNIS = ascii(',"vnis":');
const FORWARD = ascii(',"direction":"forward","directionKnown":');
const BACKWARD = ascii(',"direction":"backward","directionKnown":');
const PATH = ascii(',"path":');
const REVERSE = ascii(',"reverse":');
const UNANSWERED = ascii(',"unanswered":');
const ASKED_AT_CAPTURE_END = ascii(',"askedAtCaptureEnd":');
const PACKETS = ascii(',"packets":');
const LOST = ascii(',"lost":');
const RESEGMENTED = ascii(',"resegmented":');
const EXPIRED = ascii(',"expired":');
const ICMP_ERRORS = ascii(',"icmpErrors":');
const ICMP_ERROR = ascii(',"icmpError":');
const QUOTED_FLOWS = ascii(',"quotedFlows":');
const HOPS = ascii(',"hops":[');
const FLOW_END = ascii(']}\n');
const HOP_FROM = ascii('{"from":');
const HOP_TO = ascii(',"to":');
const HOP_PACKETS = ascii(',"packets":');
const MEDIAN = ascii(',"latency":{"medianNs":');
const MIN = ascii(',"minNs":');
const MAX = ascii(',"maxNs":');
const EXACT = ascii(',"exact":');
const CHANGES = ascii('},"changes":[');
const VARYING = ascii('],"varying":');
/** Bytes a flow needs besides its name, ICMP error, path, numbers lists and hops; a hop besides its labels, changes and varying. */
const FLOW_ROOM = 512;
const HOP_ROOM = 256;
