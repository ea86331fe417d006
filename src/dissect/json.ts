import { type Frame, frameNanosecondOfSecond, frameSeconds } from '../capture/frame.js';
import { linkTypeName } from '../capture/linktypes.js';
import { type FrameJson, frameToJson } from '../report/frame-json.js';
import { ascii, type JsonSink, LAYER_FIELDS_ROOM, utf8, writeAscii, writeBytes, writeNumber, writePadded } from './json-bytes.js';
import type { Fields } from './layer.js';
import type { Packet } from './packet.js';

/**
 * The JSON contract for one packet (documented in the README; CI users script against it):
 *
 *   { "type": "packet", "file": "node1-eth0.pcap",
 *     "frame": { "number": 1, "timestampNs": "1677857409594662000",
 *                "time": "2023-03-03T15:30:09.594662000Z", "capturedLength": 148,
 *                "originalLength": 148, "interface": 0, "linkType": "EN10MB" },
 *     "layers": [ { "protocol": "eth", "offset": 0, "length": 14,
 *                   "fields": { "eth.dst": "..", "eth.src": "..", "eth.type": 2048 } }, ... ],
 *     "error": null }
 *
 * - `frame` is the capture layer's frameToJson (one definition for every output).
 * - Protocol and field names are Wireshark's display-filter names. Values: MACs lower-case colon
 *   hex, IPv4 dotted, numbers as numbers (ip.id, checksums and flag words too: never "0x"
 *   strings), single-bit flags as booleans, repeated fields (options, SACK edges) as arrays,
 *   checksum status as "good" | "bad" | "unverified" | "not present" (tshark: 1, 0, 2, 3).
 * - Our own fields, where Wireshark has none: ip.fragment_position ("first" | "middle" |
 *   "last", only on fragments) and vxlan.heuristic (true, only when the heuristic decided).
 * - Layers quoted inside an ICMP error carry `"quoted": true`; inner layers of a tunnel simply
 *   follow the vxlan layer.
 * - `error` is { layer, offset, message } when decoding stopped early, else null.
 */
export interface PacketJson {
  type: 'packet';
  file: string;
  frame: FrameJson;
  layers: LayerJson[];
  error: null | { layer: string; offset: number; message: string };
}

export interface LayerJson {
  protocol: string;
  offset: number;
  length: number;
  fields: Fields;
  quoted?: true;
}

export function packetToJson(packet: Packet, file: string): PacketJson {
  const source = packet.layers;
  const layers = new Array<LayerJson>(source.length);
  for (let i = 0; i < source.length; i++) {
    const l = source[i]!;
    const json: LayerJson = { protocol: l.protocol, offset: l.offset, length: l.length, fields: l.fields };
    if (l.quoted) json.quoted = true;
    layers[i] = json;
  }
  const error = packet.error;
  return {
    type: 'packet',
    file,
    frame: frameToJson(packet.frame),
    layers,
    error: error === null ? null : { layer: error.layer, offset: error.offset, message: error.message },
  };
}

/**
 * `JSON.stringify(packetToJson(packet, file))`, byte for byte, but written straight from the
 * layers (see LayerBase.fieldsJson): the fast path for `--format ndjson` / `json`.
 */
export function packetToJsonText(packet: Packet, file: string): string {
  let layers = '';
  const source = packet.layers;
  for (let i = 0; i < source.length; i++) {
    const l = source[i]!;
    layers +=
      `${i === 0 ? '' : ','}{"protocol":"${l.protocol}","offset":${l.offset},"length":${l.length},` +
      `"fields":${l.fieldsJson}${l.quoted ? ',"quoted":true}' : '}'}`;
  }
  const error = packet.error;
  const errorText =
    error === null ? 'null' : JSON.stringify({ layer: error.layer, offset: error.offset, message: error.message });
  return (
    `{"type":"packet","file":${JSON.stringify(file)},"frame":${JSON.stringify(frameToJson(packet.frame))},` +
    `"layers":[${layers}],"error":${errorText}}`
  );
}

/**
 * packetToJsonText(packet, file) written as UTF-8 bytes straight into `sink` (no newline): the
 * same bytes, without building the string (see json-bytes.ts). The fast path for ndjson / json.
 */
export function writePacketJson(sink: JsonSink, packet: Packet, file: string): void {
  const fileJson = fileJsonBytes(file);
  const frame = packet.frame;
  const name = frame.interfaceName;
  const interfaceJson = name === undefined ? undefined : jsonStringBytes(name);
  sink.reserve(fileJson.length + (interfaceJson?.length ?? 0) + 512);
  let buf = sink.bytes;
  let pos = writeBytes(buf, sink.used, P_HEAD);
  pos = writeBytes(buf, pos, fileJson);
  pos = writeFrameJson(buf, pos, frame, interfaceJson);
  pos = writeBytes(buf, pos, P_LAYERS);
  const layers = packet.layers;
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i]!;
    sink.used = pos;
    sink.reserve(LAYER_FIELDS_ROOM + 128);
    buf = sink.bytes;
    pos = sink.used;
    if (i > 0) buf[pos++] = 0x2c;
    pos = writeBytes(buf, pos, layerHead(l.protocol));
    pos = writeNumber(buf, pos, l.offset);
    const length = l.length;
    if (length < LENGTH_TEXTS.length) pos = writeBytes(buf, pos, LENGTH_TEXTS[length]!);
    else {
      pos = writeBytes(buf, pos, L_LENGTH);
      pos = writeNumber(buf, pos, length);
      pos = writeBytes(buf, pos, L_FIELDS);
    }
    const end = l.writeFieldsJson(buf, pos);
    if (end >= 0) pos = end;
    else {
      sink.used = pos;
      sink.text(l.fieldsJson);
      sink.reserve(32);
      buf = sink.bytes;
      pos = sink.used;
    }
    if (l.quoted) pos = writeBytes(buf, pos, L_QUOTED);
    else buf[pos++] = 0x7d;
  }
  sink.used = pos;
  const error = packet.error;
  if (error === null) {
    sink.reserve(32);
    sink.used = writeBytes(sink.bytes, sink.used, P_NO_ERROR);
  } else {
    sink.text(`],"error":${JSON.stringify({ layer: error.layer, offset: error.offset, message: error.message })}}`);
  }
}

/** `,"frame":` and JSON.stringify(frameToJson(frame)), as bytes. */
function writeFrameJson(buf: Uint8Array, pos: number, frame: Frame, interfaceJson: Uint8Array | undefined): number {
  pos = writeBytes(buf, pos, P_FRAME);
  pos = writeNumber(buf, pos, frame.index);
  pos = writeBytes(buf, pos, P_TIMESTAMP);
  const seconds = frameSeconds(frame);
  const nanos = frameNanosecondOfSecond(frame);
  if (seconds > 0) {
    pos = writeNumber(buf, pos, seconds);
    pos = writePadded(buf, pos, nanos, 9);
  } else if (seconds === 0) pos = writeNumber(buf, pos, nanos);
  else pos = writeAscii(buf, pos, frame.timestampNs.toString());
  pos = writeBytes(buf, pos, P_TIME);
  pos = writeBytes(buf, pos, isoSecondBytes(seconds));
  buf[pos++] = 0x2e;
  pos = writePadded(buf, pos, nanos, 9);
  pos = writeBytes(buf, pos, P_CAPTURED);
  pos = writeNumber(buf, pos, frame.capturedLength);
  pos = writeBytes(buf, pos, P_ORIGINAL);
  pos = writeNumber(buf, pos, frame.originalLength);
  pos = writeBytes(buf, pos, P_INTERFACE);
  pos = interfaceJson === undefined ? writeNumber(buf, pos, frame.interfaceId) : writeBytes(buf, pos, interfaceJson);
  pos = writeBytes(buf, pos, P_LINK_TYPE);
  pos = writeBytes(buf, pos, linkTypeBytes(frame.linkType));
  buf[pos] = 0x7d;
  return pos + 1;
}

const P_HEAD = ascii('{"type":"packet","file":');
const P_FRAME = ascii(',"frame":{"number":');
const P_TIMESTAMP = ascii(',"timestampNs":"');
const P_TIME = ascii('","time":"');
const P_CAPTURED = ascii('Z","capturedLength":');
const P_ORIGINAL = ascii(',"originalLength":');
const P_INTERFACE = ascii(',"interface":');
const P_LINK_TYPE = ascii(',"linkType":');
const P_LAYERS = ascii(',"layers":[');
const L_LENGTH = ascii(',"length":');
const L_FIELDS = ascii(',"fields":');
/** `,"length":N,"fields":` for the usual header lengths. */
const LENGTH_TEXTS = Array.from({ length: 128 }, (_, n) => ascii(`,"length":${n},"fields":`));
/** `{"protocol":"eth","offset":` by protocol. */
const layerHeads = new Map<string, Uint8Array>();
function layerHead(protocol: string): Uint8Array {
  let bytes = layerHeads.get(protocol);
  if (bytes === undefined) {
    bytes = utf8(`{"protocol":${JSON.stringify(protocol)},"offset":`);
    layerHeads.set(protocol, bytes);
  }
  return bytes;
}
const L_QUOTED = ascii(',"quoted":true}');
const P_NO_ERROR = ascii('],"error":null}');

// Small caches of the few strings a capture repeats in every packet, as JSON bytes.
let lastFile: string | undefined;
let lastFileBytes: Uint8Array = new Uint8Array(0);
const stringBytes = new Map<string, Uint8Array>();
const linkTypes = new Map<number, Uint8Array>();
let lastSecond = Number.NaN;
let lastSecondBytes: Uint8Array = new Uint8Array(0);

function fileJsonBytes(file: string): Uint8Array {
  if (file !== lastFile) {
    lastFile = file;
    lastFileBytes = utf8(JSON.stringify(file));
  }
  return lastFileBytes;
}

function jsonStringBytes(text: string): Uint8Array {
  let bytes = stringBytes.get(text);
  if (bytes === undefined) {
    bytes = utf8(JSON.stringify(text));
    if (stringBytes.size < 1024) stringBytes.set(text, bytes);
  }
  return bytes;
}

function linkTypeBytes(linkType: number): Uint8Array {
  let bytes = linkTypes.get(linkType);
  if (bytes === undefined) {
    bytes = utf8(JSON.stringify(linkTypeName(linkType)));
    if (linkTypes.size < 1024) linkTypes.set(linkType, bytes);
  }
  return bytes;
}

/** "2026-11-22T04:09:13", the date and time of isoTime() for a whole second since the epoch. */
function isoSecondBytes(seconds: number): Uint8Array {
  if (seconds !== lastSecond) {
    lastSecond = seconds;
    lastSecondBytes = utf8(new Date(seconds * 1000).toISOString().slice(0, 19));
  }
  return lastSecondBytes;
}
