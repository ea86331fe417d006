import { type FrameJson, frameToJson } from '../report/frame-json.js';
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
