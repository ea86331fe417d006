/**
 * Field-by-field conformance of vxdump's dissection with tshark's, for one capture.
 *
 * Reusable: the corpus test runs tshark itself; the lab fixture test feeds the `.tshark.json`
 * kept beside each fixture. Both get the same report: every mismatch names the file, frame,
 * layer, field and both values; known disagreements are explained one by one (and an
 * explanation that no longer matches anything is reported too, so they cannot rot).
 *
 *   const result = compareWithTshark({ capture: 'fixtures/p2p/node1-eth0.pcap',
 *     tsharkJson: readFileSync('fixtures/p2p/node1-eth0.pcap.tshark.json', 'utf8'),
 *     dissector: { vxlanPorts: [4789] }, known: [] });
 *   expect(result.unexplained).toEqual([]);
 *
 * How layers line up: tshark's per-packet object lists protocols in dissection order (a tunnelled
 * packet repeats eth/ip/udp). Protocols vxdump decodes are compared in order with vxdump's
 * layers; payload protocols after them (dns, http, tls, data, ...) are ignored; a protocol
 * vxdump does not decode followed by ones it does (gre, erspan, geneve, ipv6 carrying more
 * headers) is reported as a `tshark-only` difference, because there vxdump stops early.
 * ICMP errors: tshark nests the quoted ip/udp/tcp inside the icmp object; they are compared with
 * vxdump's `quoted` layers.
 */
import { execFileSync } from 'node:child_process';
import { basename } from 'node:path';
import { openCapture } from '../../src/capture/open.js';
import { createDissector, type DissectorOptions, type Packet } from '../../src/dissect/index.js';
import type { FieldValue } from '../../src/dissect/index.js';
import { JsonObject, parseJsonKeepingDuplicates } from './tshark-json.js';

/** Protocols vxdump decodes, by Wireshark name. */
export const DECODED_PROTOCOLS: ReadonlySet<string> = new Set([
  'eth', 'vlan', 'ieee8021ad', 'sll', 'null', 'arp', 'ip', 'udp', 'vxlan', 'icmp', 'tcp',
]);

/** Fields of ours that Wireshark does not have: not compared. */
const OWN_FIELDS: ReadonlySet<string> = new Set(['ip.fragment_position', 'vxlan.heuristic']);

/**
 * Fields vxdump claims to decode, per protocol. When tshark shows one of these on a layer and
 * vxdump does not, that is a mismatch ("vxdump lacks it"), not silence.
 */
export const CLAIMED_FIELDS: Readonly<Record<string, readonly string[]>> = {
  eth: ['eth.dst', 'eth.src', 'eth.type', 'eth.len'],
  vlan: ['vlan.priority', 'vlan.dei', 'vlan.id', 'vlan.etype'],
  ieee8021ad: ['ieee8021ad.priority', 'ieee8021ad.dei', 'ieee8021ad.id', 'ieee8021ah.etype'],
  sll: ['sll.pkttype', 'sll.hatype', 'sll.halen', 'sll.src.eth', 'sll.etype', 'sll.ltype', 'sll.ifindex'],
  null: ['null.family'],
  arp: [
    'arp.hw.type', 'arp.proto.type', 'arp.hw.size', 'arp.proto.size', 'arp.opcode', 'arp.isgratuitous',
    'arp.src.hw_mac', 'arp.src.proto_ipv4', 'arp.dst.hw_mac', 'arp.dst.proto_ipv4',
  ],
  ip: [
    'ip.version', 'ip.hdr_len', 'ip.dsfield', 'ip.dsfield.dscp', 'ip.dsfield.ecn', 'ip.len', 'ip.id', 'ip.flags',
    'ip.flags.rb', 'ip.flags.df', 'ip.flags.mf', 'ip.frag_offset', 'ip.ttl', 'ip.proto', 'ip.checksum',
    'ip.checksum.status', 'ip.src', 'ip.dst', 'ip.opt.type',
  ],
  udp: ['udp.srcport', 'udp.dstport', 'udp.length', 'udp.checksum', 'udp.checksum.status'],
  vxlan: [
    'vxlan.flags', 'vxlan.flag_g', 'vxlan.flag_i', 'vxlan.flag_d', 'vxlan.flag_a', 'vxlan.flags_reserved',
    'vxlan.gbp', 'vxlan.vni', 'vxlan.reserved8',
  ],
  icmp: ['icmp.type', 'icmp.code', 'icmp.checksum', 'icmp.checksum.status', 'icmp.ident', 'icmp.seq', 'icmp.mtu', 'icmp.redir_gw'],
  tcp: [
    'tcp.srcport', 'tcp.dstport', 'tcp.seq_raw', 'tcp.ack_raw', 'tcp.hdr_len', 'tcp.flags', 'tcp.flags.res',
    'tcp.flags.ae', 'tcp.flags.cwr', 'tcp.flags.ece', 'tcp.flags.urg', 'tcp.flags.ack', 'tcp.flags.push',
    'tcp.flags.reset', 'tcp.flags.syn', 'tcp.flags.fin', 'tcp.window_size_value', 'tcp.checksum',
    'tcp.checksum.status', 'tcp.urgent_pointer', 'tcp.option_kind', 'tcp.options.mss_val',
    'tcp.options.wscale.shift', 'tcp.options.wscale.multiplier', 'tcp.options.sack_perm', 'tcp.options.sack_le',
    'tcp.options.sack_re', 'tcp.options.timestamp.tsval', 'tcp.options.timestamp.tsecr',
  ],
};

/** tshark's *.checksum.status numbers (proto_checksum_enum_e). */
const CHECKSUM_STATUS: Readonly<Record<string, string>> = { '0': 'bad', '1': 'good', '2': 'unverified', '3': 'not present' };

/** One protocol layer as tshark reports it: every field name with all its values, in order. */
export interface TsharkLayer {
  protocol: string;
  quoted: boolean;
  fields: Map<string, string[]>;
  /**
   * Read from `--no-duplicate-keys` output, where repeated subtrees were merged: the values of
   * a repeated field (tcp.option_kind of NOP, MSS, NOP, ...) are complete but may be reordered.
   */
  merged: boolean;
}

export interface TsharkPacket {
  number: number;
  /** frame.protocols, e.g. "eth:ethertype:ip:udp:vxlan:eth:ethertype:ip:icmp:data". */
  protocols: string;
  layers: TsharkLayer[];
}

export type Difference =
  | { kind: 'field'; file: string; frame: number; layer: number; protocol: string; field: string; vxdump: string; tshark: string }
  | { kind: 'layer'; file: string; frame: number; layer: number; vxdump: string; tshark: string }
  | { kind: 'tshark-only'; file: string; frame: number; protocols: string }
  | { kind: 'frames'; file: string; vxdump: number; tshark: number };

/**
 * A known, explained disagreement. It matches differences by file (base name) and, when given,
 * frame, protocol, field and kind; `right` says who is correct and `reason` why.
 */
export interface KnownDifference {
  /** Base name of the capture, or a pattern for a rule that holds for many captures. */
  file: string | RegExp;
  frames?: readonly number[];
  kind?: Difference['kind'];
  protocol?: string;
  field?: string;
  /** A condition on the packet itself, for rules like "the layer after an IPv4 fragment". */
  when?: (difference: Difference, packet: Packet) => boolean;
  right: 'tshark' | 'vxdump' | 'both';
  reason: string;
}

export interface ComparisonResult {
  file: string;
  frames: number;
  /** Field values compared and equal. */
  fieldsCompared: number;
  /** Layers compared, by protocol. */
  layersCompared: Record<string, number>;
  unexplained: Difference[];
  explained: { difference: Difference; by: KnownDifference }[];
}

/**
 * Runs tshark with VXLAN "Decode As" on the given ports, checksum verification on, absolute
 * TCP sequence numbers and IPv4 reassembly off (vxdump decodes packet by packet).
 */
export function runTshark(capture: string, vxlanPorts: readonly number[]): string {
  const args = ['-r', capture, '-T', 'json', '-n'];
  for (const port of vxlanPorts) args.push('-d', `udp.port==${port},vxlan`);
  for (const pref of [
    'ip.check_checksum:TRUE', 'udp.check_checksum:TRUE', 'tcp.check_checksum:TRUE',
    // Absolute numbers everywhere, so SACK edges compare with ours.
    'tcp.relative_sequence_numbers:FALSE',
    // vxdump does not reassemble: a first fragment's transport header is decoded on its own.
    'ip.defragment:FALSE',
  ]) {
    args.push('-o', pref);
  }
  return execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] });
}

export function tsharkAvailable(): boolean {
  try {
    execFileSync('tshark', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Turns `tshark -T json` text into packets with their protocol layers in order. Both forms are
 * read: the default one with repeated keys (in document order), and `--no-duplicate-keys`, where
 * repeats are arrays (outer first) and the interleaving is rebuilt from frame.protocols.
 */
export function parseTsharkPackets(text: string): TsharkPacket[] {
  const doc = parseJsonKeepingDuplicates(text);
  if (!Array.isArray(doc)) throw new Error('tshark JSON: expected an array of packets');
  return doc.map((item) => {
    const source = (item as JsonObject).get('_source') as JsonObject;
    const layers = source.get('layers') as JsonObject;
    const frame = layers.get('frame') as JsonObject;
    const protocols = String(frame.get('frame.protocols') ?? '');
    const ordered = layers.entries.some(([, v]) => Array.isArray(v) && v.some((x) => x instanceof JsonObject))
      ? inProtocolOrder(layers, protocols)
      : layers.entries.filter((e): e is [string, JsonObject] => e[1] instanceof JsonObject && e[0] !== 'frame');
    const merged = layers.entries.some(([, v]) => Array.isArray(v));
    const result: TsharkLayer[] = [];
    let quoted = false;
    for (const [key, value] of ordered) {
      // Dissectors called on a quoted datagram's payload (VXLAN in the UDP an ICMP error
      // quotes) add their layer at the top level, after the icmp object: still the quote.
      quoted = addLayer(result, key, value, quoted, merged) || quoted;
    }
    return { number: Number(frame.get('frame.number')), protocols, layers: result };
  });
}

/**
 * `--no-duplicate-keys` output: { eth: [outer, inner], ip: [outer, inner], udp: {...}, ... }.
 * frame.protocols ("eth:ethertype:ip:udp:vxlan:eth:ethertype:ip:icmp:data") gives the order;
 * each name takes the next unused object of that key. Protocols nested in a taken object (the
 * datagram quoted by an ICMP error) are mentioned in frame.protocols too and are skipped there.
 */
function inProtocolOrder(layers: JsonObject, protocols: string): [string, JsonObject][] {
  const pools = new Map<string, JsonObject[]>();
  for (const [key, value] of layers.entries) {
    if (key === 'frame') continue;
    const list = (Array.isArray(value) ? value : [value]).filter((v): v is JsonObject => v instanceof JsonObject);
    pools.set(key, [...(pools.get(key) ?? []), ...list]);
  }
  const ordered: [string, JsonObject][] = [];
  const skip: string[] = [];
  for (const name of protocols.split(':')) {
    if (skip.length > 0 && skip[0] === name) {
      skip.shift();
      continue;
    }
    const object = pools.get(name)?.shift();
    if (object === undefined) continue;
    ordered.push([name, object]);
    skip.push(...nestedProtocols(object));
  }
  // Objects frame.protocols does not name (tcp.segments, _ws.malformed, ...) go last.
  for (const [name, rest] of pools) for (const object of rest) ordered.push([name, object]);
  return ordered;
}

function nestedProtocols(object: JsonObject): string[] {
  const names: string[] = [];
  for (const [key, value] of object.entries) {
    if (!(value instanceof JsonObject)) continue;
    if (DECODED_PROTOCOLS.has(key)) names.push(key, ...nestedProtocols(value));
    else names.push(...nestedProtocols(value));
  }
  return names;
}

/** Adds a layer and the layers nested in it; true when it had nested (quoted) layers. */
function addLayer(out: TsharkLayer[], protocol: string, object: JsonObject, quoted: boolean, merged: boolean): boolean {
  const layer: TsharkLayer = { protocol, quoted, fields: new Map(), merged };
  out.push(layer);
  const nested: [string, JsonObject][] = [];
  flatten(object, layer.fields, nested);
  // A protocol object inside another (the datagram an ICMP error quotes) becomes its own layer.
  for (const [name, inner] of nested) addLayer(out, name, inner, true, merged);
  return nested.length > 0;
}

function flatten(object: JsonObject, into: Map<string, string[]>, nested: [string, JsonObject][]): void {
  for (const [key, value] of object.entries) {
    // --no-duplicate-keys turns repeats into arrays: read them as repeats.
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item instanceof JsonObject) {
        if (DECODED_PROTOCOLS.has(key)) nested.push([key, item]);
        else if (key !== '_ws.expert') flatten(item, into, nested);
        continue;
      }
      if (Array.isArray(item)) continue;
      const list = into.get(key);
      const text = item === null ? '' : String(item);
      if (list === undefined) into.set(key, [text]);
      else list.push(text);
    }
  }
}

function show(value: FieldValue | undefined): string {
  return value === undefined ? '(absent)' : JSON.stringify(value);
}

/** tshark's text for a field, normalised to the type of our value. */
function normalise(field: string, ours: FieldValue, theirs: string): FieldValue {
  if (field.endsWith('.checksum.status')) return CHECKSUM_STATUS[theirs] ?? theirs;
  if (typeof ours === 'boolean') return theirs === '0' ? false : theirs === '1' ? true : theirs !== 'False';
  if (typeof ours === 'number') return /^0x[0-9a-f]+$/i.test(theirs) ? parseInt(theirs, 16) : Number(theirs);
  return theirs.toLowerCase();
}

function equalValues(field: string, ours: FieldValue, theirs: string[], anyOrder: boolean): boolean {
  if (Array.isArray(ours)) {
    if (ours.length !== theirs.length) return false;
    const mine = ours as readonly (number | string | boolean)[];
    const normalised = theirs.map((t, i) => normalise(field, mine[i]!, t));
    if (!anyOrder) return mine.every((v, i) => normalised[i] === v);
    const key = (v: unknown): string => JSON.stringify(v);
    return [...mine].map(key).sort().join() === normalised.map(key).sort().join();
  }
  return normalise(field, ours as number | string | boolean, theirs[0]!) === ours;
}

/** Protocols whose payload is application data: what tshark decodes on top is out of scope. */
const PAYLOAD_CARRIERS: ReadonlySet<string> = new Set(['udp', 'tcp', 'icmp']);
/**
 * Not protocols: undissected bytes (a later IPv4 fragment's payload, padding) and tshark's
 * malformed/short markers, which vxdump reports through Packet.error instead.
 */
const NOT_LAYERS: ReadonlySet<string> = new Set(['data', '_ws.malformed', '_ws.short', '_ws.unreassembled']);

/**
 * The tshark layers vxdump should have, and where tshark goes on where vxdump stops.
 *
 * A protocol vxdump does not decode is ignored when it is application payload (it sits on UDP,
 * TCP or ICMP: dns, http, tls, data, ...) and nothing vxdump decodes follows it. Anything else
 * (IPv6, GRE, ERSPAN, Geneve, NSH, LLC, ... or a UDP tunnel with VXLAN inside) is a coverage
 * difference, reported so that an explanation must name it.
 */
function comparableLayers(packet: TsharkPacket): { layers: TsharkLayer[]; beyond: string | null } {
  const layers: TsharkLayer[] = [];
  const all = packet.layers;
  let lastOurs: string | undefined;
  for (let i = 0; i < all.length; i++) {
    const l = all[i]!;
    if (DECODED_PROTOCOLS.has(l.protocol)) {
      layers.push(l);
      lastOurs = l.protocol;
      continue;
    }
    if (NOT_LAYERS.has(l.protocol)) continue;
    const rest = all.slice(i).filter((r) => !NOT_LAYERS.has(r.protocol));
    // (tshark may put reassembly objects such as "tcp.segments" between tcp and tls.)
    const payload = lastOurs !== undefined && PAYLOAD_CARRIERS.has(lastOurs);
    const moreOfOurs = rest.some((r) => DECODED_PROTOCOLS.has(r.protocol) && r.quoted === l.quoted);
    if (moreOfOurs || !payload) return { layers, beyond: rest.map((r) => r.protocol).join(':') };
    // Payload: skip it, but keep comparing any layers of ours nested after it (quotes).
  }
  return { layers, beyond: null };
}

export interface CompareOptions {
  capture: string;
  /** tshark's JSON for the capture; when absent tshark is run with `vxlanPorts` (or 4789). */
  tsharkJson?: string;
  dissector?: DissectorOptions;
  known?: readonly KnownDifference[];
  /** Label used in messages (default: the capture's base name). */
  label?: string;
}

export function compareWithTshark(options: CompareOptions): ComparisonResult {
  const file = options.label ?? basename(options.capture);
  const ports = options.dissector?.vxlanPorts ?? [4789, 8472];
  const tshark = parseTsharkPackets(options.tsharkJson ?? runTshark(options.capture, ports));
  const dissect = createDissector(options.dissector ?? {});
  const differences: Difference[] = [];
  const layersCompared: Record<string, number> = {};
  let fieldsCompared = 0;
  let frames = 0;

  const known = (options.known ?? []).filter((k) =>
    typeof k.file === 'string' ? k.file === file || k.file === basename(options.capture) : k.file.test(file),
  );
  const explained: ComparisonResult['explained'] = [];
  const unexplained: Difference[] = [];
  const judge = (packet: Packet | null): void => {
    for (const d of differences.splice(0)) {
      const by = known.find((k) => matches(k, d) && (k.when === undefined || (packet !== null && k.when(d, packet))));
      if (by === undefined) unexplained.push(d);
      else explained.push({ difference: d, by });
    }
  };

  const reader = openCapture(options.capture);
  try {
    for (const frame of reader) {
      const theirs = tshark[frames];
      frames++;
      if (theirs === undefined) continue;
      const packet = dissect(frame);
      const { layers: expected, beyond } = comparableLayers(theirs);
      const ours = packet.layers;
      const n = Math.max(ours.length, expected.length);
      for (let i = 0; i < n; i++) {
        const o = ours[i];
        const t = expected[i];
        if (o === undefined || t === undefined || o.protocol !== t.protocol || o.quoted !== t.quoted) {
          const name = (l: { protocol: string; quoted: boolean } | undefined): string =>
            l === undefined ? '(none)' : l.quoted ? `${l.protocol} (quoted)` : l.protocol;
          differences.push({ kind: 'layer', file, frame: frame.index, layer: i, vxdump: name(o), tshark: name(t) });
          break;
        }
        layersCompared[o.protocol] = (layersCompared[o.protocol] ?? 0) + 1;
        const fields = o.fields;
        for (const [field, value] of Object.entries(fields)) {
          if (OWN_FIELDS.has(field)) continue;
          const values = t.fields.get(field);
          if (values === undefined || !equalValues(field, value, values, t.merged)) {
            differences.push({
              kind: 'field', file, frame: frame.index, layer: i, protocol: o.protocol, field,
              vxdump: show(value), tshark: values === undefined ? '(absent)' : values.join(','),
            });
          } else {
            fieldsCompared++;
          }
        }
        for (const field of CLAIMED_FIELDS[o.protocol] ?? []) {
          const values = t.fields.get(field);
          if (values !== undefined && !(field in fields)) {
            differences.push({
              kind: 'field', file, frame: frame.index, layer: i, protocol: o.protocol, field,
              vxdump: '(absent)', tshark: values.join(','),
            });
          }
        }
      }
      if (beyond !== null) differences.push({ kind: 'tshark-only', file, frame: frame.index, protocols: beyond });
      judge(packet);
    }
  } finally {
    reader.close();
  }
  if (frames !== tshark.length) differences.push({ kind: 'frames', file, vxdump: frames, tshark: tshark.length });
  judge(null);
  return { file, frames, fieldsCompared, layersCompared, unexplained, explained };
}

function matches(k: KnownDifference, d: Difference): boolean {
  if (k.kind !== undefined && k.kind !== d.kind) return false;
  if (k.frames !== undefined && !('frame' in d && k.frames.includes(d.frame))) return false;
  if (k.protocol !== undefined && !(d.kind === 'field' && d.protocol === k.protocol)) return false;
  if (k.field !== undefined && !(d.kind === 'field' && d.field === k.field)) return false;
  return true;
}

/** Explanations that matched nothing (stale: the code or tshark changed). */
export function unusedExplanations(known: readonly KnownDifference[], results: readonly ComparisonResult[]): KnownDifference[] {
  // (A pattern rule counts as used when it explained something in any capture.)
  const used = new Set(results.flatMap((r) => r.explained.map((e) => e.by)));
  return known.filter((k) => !used.has(k));
}

/** One line per difference: "file frame 3 layer 5 (tcp) tcp.window_size_value: vxdump 512, tshark 502". */
export function describe(d: Difference): string {
  switch (d.kind) {
    case 'field':
      return `${d.file} frame ${d.frame} layer ${d.layer} (${d.protocol}) ${d.field}: vxdump ${d.vxdump}, tshark ${d.tshark}`;
    case 'layer':
      return `${d.file} frame ${d.frame} layer ${d.layer}: vxdump ${d.vxdump}, tshark ${d.tshark}`;
    case 'tshark-only':
      return `${d.file} frame ${d.frame}: tshark goes on decoding ${d.protocols}`;
    case 'frames':
      return `${d.file}: vxdump read ${d.vxdump} frames, tshark ${d.tshark}`;
  }
}

/**
 * For tshark JSON made with IPv4 reassembly on (tshark's default, and the lab fixtures'):
 * tshark shows a fragmented datagram's transport header at the last fragment (reassembled),
 * vxdump at the first fragment (it decodes frame by frame). Both are right.
 */
export const IP_REASSEMBLY: KnownDifference = {
  file: /./,
  kind: 'layer',
  when: (d, packet) => {
    if (d.kind !== 'layer') return false;
    const previous = packet.layers[d.layer - 1];
    return previous !== undefined && previous.protocol === 'ip' && previous.fragment !== null;
  },
  right: 'both',
  reason:
    'IPv4 fragments: tshark (reassembly on) shows the transport header of the reassembled datagram at ' +
    'its last fragment; vxdump, which decodes frame by frame, shows it at the first fragment and ' +
    'nothing after the later ones.',
};
