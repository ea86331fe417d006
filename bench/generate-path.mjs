// The synthetic captures for the `trace` and `diff` rows of `npm run bench`: the static
// point-to-point VXLAN experiment of the primer (VNI 11, UDP 4789) captured at six points,
//
//   node1/br0 → node1/vxlan11 → node1/eth0 ⇒ node2/eth0 → node2/vxlan11 → node2/br0
//
// and the same points in reverse for traffic from node2 to node1. One stream of pod traffic is
// made (ICMP echo, TCP connections with handshake, data, ACKs and FINs, DNS and a one-way UDP
// flow, plus a little ARP), each packet is sent along its path, and every capture point writes
// what the packet looks like there:
//
//   sending br0       pod MAC → bridge MAC, TTL 64 (as the pod sent it)
//   sending vxlan11   VTEP MACs (02:00:0a:f4:0N:00), TTL 63, IPv4 checksum recomputed (routed)
//   both eth0s        the vxlan11 frame in Ethernet/IPv4 10.211.55.122 ↔ .123/UDP → 4789/VXLAN
//                     VNI 11 (+50 bytes); outer UDP source port a hash of the inner flow
//   receiving vxlan11 the inner frame again
//   receiving br0     bridge MAC → pod MAC, TTL 62 (routed again)
//
// Each hop takes a few to tens of µs (jitter, and queueing: a device never reorders one
// direction's packets). The node2 files' clock is off by a fixed amount (--skew-ns), and may run
// fast or slow by --drift-ppm besides (an unsynchronised crystal: tens of ppm). A small
// deterministic fraction (--loss) of the node1→node2 packets is dropped between node2/eth0 and
// node2/vxlan11; TCP retransmits what it lost, a lost echo request gets no reply. truth.json,
// beside the captures, says what a correct `vxdump trace` must find (see writeTruth below).
//
// Deterministic: one seeded PRNG drives everything (another one only the losses), so two runs
// with the same options write byte-identical files.
//
//   node bench/generate-path.mjs [--packets N] [--out DIR] [--seed N] [--skew-ns NS] [--loss F]
//                                [--drift-ppm PPM] [--microseconds]
//
// Defaults: 1M packets, DIR '.', skew +1.75 s (a negative one as --skew-ns=-2500000000), loss
// 0.001, no drift, nanosecond pcap (--microseconds: tcpdump's default resolution; ties then happen).
//
// --packets is the number of packets in the stream (default 1M): every point gets about that
// many (the eth0s exactly that many but the local ARP, the points after the loss a few less).

import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { PcapWriter } from '../dist/capture/writer.js';
import { makeRandom } from './generate.mjs';

/** Bump when the traffic or the path model changes, so that a reused folder is regenerated. */
export const PATH_GENERATOR_VERSION = 2;
export const PATH_DEFAULT_SEED = 0x5eed0011;
export const DEFAULT_SKEW_NS = 1_750_000_000;
export const DEFAULT_LOSS = 0.001;
export const TRUTH_SCHEMA = 'vxdump-bench-path-truth/1';

/** The capture points, in the order node1→node2 packets pass them. */
export const POINTS = ['node1/br0', 'node1/vxlan11', 'node1/eth0', 'node2/eth0', 'node2/vxlan11', 'node2/br0'];
export const POINT_FILES = POINTS.map((p) => `${p.replace('/', '-')}.pcap`);
const PATHS = [
  [0, 1, 2, 3, 4, 5], // direction 0: node1 → node2
  [5, 4, 3, 2, 1, 0], // direction 1: node2 → node1
];
const DIRECTION_NAMES = ['node1→node2', 'node2→node1'];
const HOP_NAMES = ['route out (br0→vxlan11)', 'encapsulate (vxlan11→eth0)', 'wire (eth0→eth0)', 'decapsulate (eth0→vxlan11)', 'route in (vxlan11→br0)'];
/** The packets dropped: direction 0, after node2/eth0 (position 3 on its path), before node2/vxlan11. */
const LOSS_DIRECTION = 0;
const LOSS_AFTER_POSITION = 3;

/** 2024-03-12T10:00:00Z in µs: an hour after bench.pcap's start, so the two are never confused. */
const START_US = Date.UTC(2024, 2, 12, 10, 0, 0) * 1000;
const START_NS = BigInt(START_US) * 1000n;
/** Mean gap between stream packets: ~100k packets/s, 1M packets take ~10 s. */
const MEAN_GAP_US = 10;

const VNI = 11;
const VXLAN_PORT = 4789;
const PODS_PER_NODE = 16; // 10.244.N.2 .. 10.244.N.17
const DNS_HOST = 53; // a DNS server pod on each node: 10.244.N.53
const TCP_SLOTS = 48; // concurrent short or long inner TCP connections; each reconnects when it closes
const ELEPHANTS = 2; // plus two endless bulk transfers (more than 65536 segments each per 1M: their IP IDs wrap)
const PING_SESSIONS = 24;
const INNER_MSS = 1398; // vxlan11 MTU 1450 - IPv4 20 - TCP 32 (with timestamps)
const SERVER_PORTS = [9000, 9090, 9091, 8000, 50051, 3000];

/**
 * Per-hop delay in true time, in ns: base + exponential jitter (capped), and now and then a
 * longer stall (a softirq that had to wait). The wire is symmetric, so the NTP-style estimate of
 * the clock offset from the minimum one-way delays is close to the true skew.
 */
const HOPS = [
  { base: 3000, jitter: 4000, cap: 40000 }, // route out
  { base: 1500, jitter: 2500, cap: 25000 }, // encapsulate
  { base: 12000, jitter: 3000, cap: 40000 }, // wire
  { base: 2000, jitter: 3000, cap: 30000 }, // decapsulate
  { base: 3000, jitter: 4000, cap: 40000 }, // route in
];
const STALL_PROBABILITY = 0.003;
const STALL_NS = [20000, 80000];
/** Least spacing of two packets of one direction at one point. */
const MIN_SPACING_NS = 200;

const ip = (a, b, c, d) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
const mac = (...bytes) => Uint8Array.from(bytes);
const BROADCAST = mac(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
const ZERO_MAC = mac(0, 0, 0, 0, 0, 0);

/** The two nodes of the primer's static experiment, with the lab's MAC scheme (02:00 + IPv4). */
const NODES = [1, 2].map((n) => ({
  number: n,
  eth0Ip: ip(10, 211, 55, 121 + n),
  eth0Mac: mac(0x02, 0x00, 0x0a, 0xd3, 0x37, 0x79 + n),
  vtepIp: ip(10, 244, n, 0),
  vtepMac: mac(0x02, 0x00, 0x0a, 0xf4, n, 0x00),
  bridgeIp: ip(10, 244, n, 1),
  bridgeMac: mac(0x02, 0x00, 0x0a, 0xf4, n, 0x01),
}));
const podIp = (node, host) => ip(10, 244, node, host);
const podMac = (node, host) => mac(0x02, 0x00, 0x0a, 0xf4, node, host);

// Packet kinds, by the points they are seen at.
const KIND_IP = 0; // pod to pod: all six points
const KIND_VTEP_ARP = 1; // vxlan11 asking the peer VTEP address, through the tunnel: vxlan11, eth0, eth0, vxlan11
const KIND_UNDERLAY_ARP = 2; // eth0 asking the peer eth0: the two eth0s
const KIND_BRIDGE_ARP = 3; // pod ↔ gateway on one bridge: that br0 only
const KIND_NAMES = ['ip', 'vtep-arp', 'underlay-arp', 'bridge-arp'];

// ---------------------------------------------------------------------------------------------
// Byte helpers and checksums.

function put16(f, at, value) {
  f[at] = (value >>> 8) & 0xff;
  f[at + 1] = value & 0xff;
}

function put32(f, at, value) {
  f[at] = (value >>> 24) & 0xff;
  f[at + 1] = (value >>> 16) & 0xff;
  f[at + 2] = (value >>> 8) & 0xff;
  f[at + 3] = value & 0xff;
}

function sumWords(f, at, length) {
  let sum = 0;
  const end = at + (length & ~1);
  for (let i = at; i < end; i += 2) sum += (f[i] << 8) | f[i + 1];
  if (length & 1) sum += f[end] << 8;
  return sum;
}

function pseudoHeaderSum(src, dst, protocol, length) {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}

function finish(sum) {
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

function putMac(f, at, m) {
  for (let i = 0; i < 6; i++) f[at + i] = m[i];
}

const ipText = (v) => `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;

/** Linux's udp_flow_src_port: a hash scaled into 32768-60999 (murmur3-style mix). */
function hashPort(a, b, c, d) {
  let h = 0x9747b28c;
  for (const k of [a, b, c, d]) {
    let x = Math.imul(k >>> 0, 0xcc9e2d51);
    x = (x << 15) | (x >>> 17);
    h ^= Math.imul(x, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return 32768 + Math.floor(((h >>> 0) * (60999 - 32768)) / 4294967296);
}

/**
 * The flow dissector's hash is symmetric (both directions of an ICMP or UDP flow get the same
 * outer source port, as in the lab's captures); TCP from a pod socket carries the socket's own
 * random txhash instead (one port per direction, changed on a retransmission timeout).
 */
function symmetricPort(srcIp, dstIp, srcPort, dstPort, protocol) {
  const [a, pa, b, pb] = srcIp < dstIp || (srcIp === dstIp && srcPort <= dstPort) ? [srcIp, srcPort, dstIp, dstPort] : [dstIp, dstPort, srcIp, srcPort];
  return hashPort(a, b, (pa << 16) | pb, protocol);
}

// ---------------------------------------------------------------------------------------------
// Payload pool (as in generate.mjs): slices at even offsets, word sums from prefix sums.

const POOL_BYTES = 256 * 1024;
const MAX_PAYLOAD = 1500;

function makePayloadPool(random) {
  const pool = Buffer.allocUnsafe(POOL_BYTES);
  for (let i = 0; i < POOL_BYTES; i += 4) pool.writeUInt32LE(random.u32(), i);
  const prefix = new Float64Array(POOL_BYTES / 2 + 1);
  for (let k = 0; k < POOL_BYTES / 2; k++) prefix[k + 1] = prefix[k] + ((pool[2 * k] << 8) | pool[2 * k + 1]);
  return {
    pool,
    /** An even offset for `length` bytes. */
    offset: (random) => 2 * random.below((POOL_BYTES - MAX_PAYLOAD) / 2),
    /** Copies pool[from, from + length) to f[at]; returns the bytes' word sum. */
    copy(f, at, from, length) {
      if (length === 0) return 0;
      pool.copy(f, at, from, from + length);
      const words = length >>> 1;
      let sum = prefix[(from >>> 1) + words] - prefix[from >>> 1];
      if (length & 1) sum += pool[from + length - 1] << 8;
      return sum;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Packets. An IP packet holds its IPv4 datagram as the pod sent it (TTL 64) and what each point
// needs to write it there; ARP packets hold their whole Ethernet frame.

/**
 * The IPv4 datagram, header checksum left to `seal`. Returns the buffer; `l4` bytes after the
 * 20-byte header are the caller's to fill.
 */
function ipv4Datagram(l4Length, id, dontFragment, protocol, src, dst) {
  const d = Buffer.allocUnsafe(20 + l4Length);
  d[0] = 0x45;
  d[1] = 0;
  put16(d, 2, 20 + l4Length);
  put16(d, 4, id);
  put16(d, 6, dontFragment ? 0x4000 : 0);
  d[8] = 64;
  d[9] = protocol;
  put16(d, 10, 0);
  put32(d, 12, src);
  put32(d, 16, dst);
  return d;
}

function makeIpPacket(direction, datagram, srcMac, dstMac, outerPort) {
  // The header's word sum without the TTL/protocol word: the checksum for any TTL from it.
  const sum = sumWords(datagram, 0, 20) - ((datagram[8] << 8) | datagram[9]);
  put16(datagram, 10, finish(sum + ((64 << 8) | datagram[9])));
  return {
    kind: KIND_IP,
    direction,
    data: datagram,
    headerSum: sum,
    srcMac, // the sending pod's
    dstMac, // the receiving pod's
    outerPort,
    outerId: 0,
    frames: null, // [frame number per point], for the packets truth.json names
    stamps: null,
  };
}

function makeArpPacket(kind, direction, dst, src, op, senderMac, senderIp, targetMac, targetIp, outerPort = 0) {
  const f = Buffer.allocUnsafe(42);
  putMac(f, 0, dst);
  putMac(f, 6, src);
  put16(f, 12, 0x0806);
  put16(f, 14, 1);
  put16(f, 16, 0x0800);
  f[18] = 6;
  f[19] = 4;
  put16(f, 20, op);
  putMac(f, 22, senderMac);
  put32(f, 28, senderIp);
  putMac(f, 32, targetMac);
  put32(f, 38, targetIp);
  return { kind, direction, data: f, outerPort, outerId: 0, frames: null, stamps: null };
}

// ---------------------------------------------------------------------------------------------
// The frame of a packet at one point. Offsets at eth0: outer Ethernet 0, IPv4 14, UDP 34,
// VXLAN 42, inner Ethernet 50.

const OUTER = 50;

function writeOuter(f, packet, innerLength) {
  const from = NODES[packet.direction];
  const to = NODES[1 - packet.direction];
  putMac(f, 0, to.eth0Mac);
  putMac(f, 6, from.eth0Mac);
  put16(f, 12, 0x0800);
  // Linux's vxlan: DF clear, TTL 64, IP ID counting per destination; UDP checksum 0.
  f[14] = 0x45;
  f[15] = 0;
  put16(f, 16, 20 + 8 + 8 + innerLength);
  put16(f, 18, packet.outerId);
  put16(f, 20, 0);
  f[22] = 64;
  f[23] = 17;
  put16(f, 24, 0);
  put32(f, 26, from.eth0Ip);
  put32(f, 30, to.eth0Ip);
  put16(f, 24, finish(sumWords(f, 14, 20)));
  put16(f, 34, packet.outerPort);
  put16(f, 36, VXLAN_PORT);
  put16(f, 38, 8 + 8 + innerLength);
  put16(f, 40, 0);
  f[42] = 0x08;
  f[43] = 0;
  f[44] = 0;
  f[45] = 0;
  f[46] = (VNI >>> 16) & 0xff;
  f[47] = (VNI >>> 8) & 0xff;
  f[48] = VNI & 0xff;
  f[49] = 0;
}

/** Writes `packet` as seen at `position` (0-5) along its direction's path into f; returns the length. */
function render(f, packet, position) {
  if (packet.kind !== KIND_IP) {
    const encapsulated = packet.kind === KIND_VTEP_ARP && (position === 2 || position === 3);
    const at = encapsulated ? OUTER : 0;
    if (encapsulated) writeOuter(f, packet, packet.data.length);
    packet.data.copy(f, at);
    return at + packet.data.length;
  }
  const from = NODES[packet.direction];
  const to = NODES[1 - packet.direction];
  let at = 0;
  let ttl;
  if (position === 0) {
    putMac(f, 0, from.bridgeMac); // the pod sends to its gateway
    putMac(f, 6, packet.srcMac);
    ttl = 64;
  } else if (position === 5) {
    putMac(f, 0, packet.dstMac);
    putMac(f, 6, to.bridgeMac);
    ttl = 62;
  } else {
    if (position === 2 || position === 3) {
      writeOuter(f, packet, 14 + packet.data.length);
      at = OUTER;
    }
    putMac(f, at, to.vtepMac);
    putMac(f, at + 6, from.vtepMac);
    ttl = 63;
  }
  put16(f, at + 12, 0x0800);
  const d = packet.data;
  d.copy(f, at + 14);
  f[at + 14 + 8] = ttl;
  put16(f, at + 14 + 10, finish(packet.headerSum + ((ttl << 8) | d[9])));
  return at + 14 + d.length;
}

// ---------------------------------------------------------------------------------------------
// A min-heap of due events (a reply when its request has arrived, a retransmission).

class Heap {
  constructor() {
    this.items = [];
  }
  get size() {
    return this.items.length;
  }
  peek() {
    return this.items[0];
  }
  push(item) {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p].due < item.due || (a[p].due === item.due && a[p].order < item.order)) break;
      a[i] = a[p];
      i = p;
    }
    a[i] = item;
  }
  pop() {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const c = r < a.length && (a[r].due < a[l].due || (a[r].due === a[l].due && a[r].order < a[l].order)) ? r : l;
        if (last.due < a[c].due || (last.due === a[c].due && last.order < a[c].order)) break;
        a[i] = a[c];
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * Generates the six captures into `dir`. Returns the truth (also written to truth.json).
 */
export function generatePath({
  packets,
  dir,
  seed = PATH_DEFAULT_SEED,
  skewNs = DEFAULT_SKEW_NS,
  loss = DEFAULT_LOSS,
  driftPpm = 0,
  nanosecond = true,
  overwrite = true,
}) {
  const started = performance.now();
  const random = makeRandom(seed);
  const lossRandom = makeRandom((seed ^ 0x10551055) >>> 0);
  const payload = makePayloadPool(random);
  const skew = Math.trunc(skewNs);
  if (!Number.isSafeInteger(skew) || Math.abs(skew) > 1e15) throw new Error(`--skew-ns ${skewNs}: not a number of ns (negative: --skew-ns=-2500000000)`);
  if (!(Math.abs(driftPpm) <= 1000)) throw new Error(`--drift-ppm ${driftPpm}: not a rate within ±1000 ppm`);
  if (!(loss >= 0 && loss < 1)) throw new Error(`--loss ${loss}: not a fraction in [0, 1)`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`--seed ${seed}: not a 32-bit unsigned integer`);

  // --- the six writers, their lanes (one FIFO per direction) and counters
  mkdirSync(dir, { recursive: true });
  const points = POINTS.map((name, p) => ({
    name,
    index: p,
    file: POINT_FILES[p],
    path: join(dir, POINT_FILES[p]),
    node: p < 3 ? 0 : 1,
    writer: new PcapWriter(join(dir, POINT_FILES[p]), { linkType: 1, overwrite, nanosecond }),
    lanes: [0, 1].map(() => ({ packets: [], times: [], head: 0, last: -Infinity })),
    frames: 0,
    bytes: 0,
    kinds: [0, 0, 0, 0],
  }));
  // The position of each point along each direction's path.
  const positionOf = PATHS.map((path) => {
    const at = [];
    path.forEach((p, k) => (at[p] = k));
    return at;
  });

  const scratch = Buffer.alloc(2048);
  const views = Array.from({ length: scratch.length + 1 }, (_, n) => scratch.subarray(0, n));
  const record = { timestampNs: 0n, bytes: views[0], originalLength: 0 };
  const resolution = nanosecond ? 1 : 1000;
  const offsets = [0, skew];
  /** A node's clock at true time `time`: node2's runs `driftPpm` fast from the start (slow if negative). */
  const clockOf = (node, time) => time + offsets[node] + (node === 1 ? Math.round(time * driftPpm * 1e-6) : 0);

  const writeOne = (point, packet, time) => {
    const position = positionOf[packet.direction][point.index];
    const length = render(scratch, packet, position);
    const stamp = START_NS + BigInt(clockOf(point.node, time));
    record.timestampNs = stamp;
    record.bytes = views[length];
    record.originalLength = length;
    point.writer.write(record);
    point.frames += 1;
    point.bytes += length;
    point.kinds[packet.kind] += 1;
    if (packet.frames !== null) {
      const p = point.index;
      packet.frames[p] = point.frames;
      // What the file holds (microsecond files hold the time truncated to the µs).
      packet.stamps[p] = String(nanosecond ? stamp : (stamp / 1000n) * 1000n);
    }
  };

  /** Writes every sighting before `time` at every point, the two lanes merged by time. */
  const flush = (time) => {
    for (const point of points) {
      const [a, b] = point.lanes;
      for (;;) {
        const ta = a.head < a.times.length ? a.times[a.head] : Infinity;
        const tb = b.head < b.times.length ? b.times[b.head] : Infinity;
        if (ta >= time && tb >= time) break;
        const lane = ta <= tb ? a : b;
        writeOne(point, lane.packets[lane.head], lane.times[lane.head]);
        lane.packets[lane.head] = undefined;
        lane.head += 1;
        if (lane.head === lane.times.length) {
          lane.packets.length = 0;
          lane.times.length = 0;
          lane.head = 0;
        } else if (lane.head > 4096) {
          lane.packets.splice(0, lane.head);
          lane.times.splice(0, lane.head);
          lane.head = 0;
        }
      }
    }
  };

  // --- truth bookkeeping
  const delays = [0, 1].map(() => HOPS.map(() => new Int32Array(Math.max(16, packets))));
  const delayCount = [0, 1].map(() => HOPS.map(() => 0));
  const lost = []; // { packet, retransmission }
  const samples = new Map(); // "icmp node1→node2" → packet
  const mix = { tcp: [0, 0], icmp: [0, 0], udp: [0, 0], vtepArp: [0, 0], underlayArp: [0, 0], bridgeArp: [0, 0] };
  const counters = { tcpConnections: 0, retransmissions: 0, rtoRetransmissions: 0, unansweredEchoRequests: 0, unansweredDnsQueries: 0, synAckIdZero: 0 };
  const flowPackets = new Map(); // inner 5-tuple of one direction → packets (for the IP ID wrap facts)
  const track = (packet) => {
    packet.frames = [0, 0, 0, 0, 0, 0];
    packet.stamps = [null, null, null, null, null, null];
  };

  const outerIds = [random.below(65536), random.below(65536)];

  /**
   * Sends `packet` at true time `now` from path position `first` to `last`. Returns its time at
   * `last`, or Infinity if it was lost on the way.
   */
  const send = (packet, now, first = 0, last = 5) => {
    const d = packet.direction;
    const path = PATHS[d];
    if (first <= 2 && last >= 3) {
      packet.outerId = outerIds[d];
      outerIds[d] = (outerIds[d] + 1) & 0xffff;
    }
    let t = now;
    let previous = now;
    for (let k = first; k <= last; k++) {
      if (k > first) {
        const hop = HOPS[k - 1];
        let delay = hop.base + Math.min(hop.cap - hop.base, Math.floor(-Math.log(1 - random.float()) * hop.jitter));
        if (random.float() < STALL_PROBABILITY) delay += random.between(STALL_NS[0], STALL_NS[1]);
        t += delay;
      }
      const point = points[path[k]];
      const lane = point.lanes[d];
      if (t < lane.last + MIN_SPACING_NS) t = lane.last + MIN_SPACING_NS; // FIFO: wait behind the packet before
      if (k > first && packet.kind === KIND_IP) delays[d][k - 1][delayCount[d][k - 1]++] = t - previous;
      previous = t;
      lane.last = t;
      lane.packets.push(packet);
      lane.times.push(t);
      if (packet.kind === KIND_IP && d === LOSS_DIRECTION && k === LOSS_AFTER_POSITION && loss > 0 && lossRandom.float() < loss) {
        track(packet);
        lost.push({ packet, retransmission: null });
        return Infinity;
      }
    }
    return t;
  };

  // --- the due events
  const heap = new Heap();
  let order = 0;
  const later = (due, fire) => heap.push({ due, order: order++, fire });

  // --- traffic sources

  const countFlow = (packet, srcIp, dstIp, srcPort, dstPort, protocol) => {
    const key = `${protocol} ${srcIp}:${srcPort} ${dstIp}:${dstPort}`;
    flowPackets.set(key, (flowPackets.get(key) ?? 0) + 1);
  };

  const sample = (name, packet) => {
    if (!samples.has(name)) {
      track(packet);
      samples.set(name, packet);
    }
  };

  /** A TCP endpoint in a pod. */
  const tcpSide = (node, host, port) => ({
    node,
    host,
    ip: podIp(node + 1, host),
    mac: podMac(node + 1, host),
    port,
    seq: random.u32(),
    ipId: random.below(65536),
    window: random.between(500, 3000),
    tsClock: random.u32(),
    txPort: random.between(32768, 60999), // the socket's txhash, as an outer UDP source port
    // What the peer has sent that consumes sequence space: { end, arrival } in order. Delivered
    // in order only: a lost segment holds the ones behind it back until its retransmission arrives.
    inbound: [],
    inboundHead: 0,
    rcvNext: 0,
    lastAckSent: -1,
  });

  /** The in-order edge of what `side` has received by `now`: its ACK number. */
  const rcvEdge = (side, now) => {
    const q = side.inbound;
    while (side.inboundHead < q.length && q[side.inboundHead].arrival <= now) {
      side.rcvNext = q[side.inboundHead].end;
      q[side.inboundHead++] = undefined;
    }
    if (side.inboundHead > 1024) {
      q.splice(0, side.inboundHead);
      side.inboundHead = 0;
    }
    return side.rcvNext;
  };

  class TcpConnection {
    constructor(elephant) {
      this.elephant = elephant;
      this.stage = 'closed'; // opened at its first pick
      if (elephant || random.float() < 0.5) this.open(true);
    }

    /** A new connection: client and server pods on different nodes, either way round. */
    open(midstream) {
      const clientNode = random.below(2);
      this.client = tcpSide(clientNode, random.between(2, 1 + PODS_PER_NODE), random.between(32768, 60999));
      this.server = tcpSide(1 - clientNode, random.between(2, 1 + PODS_PER_NODE), random.pick(SERVER_PORTS));
      this.client.peer = this.server;
      this.server.peer = this.client;
      this.bulk = random.float() < 0.75 ? this.server : this.client; // mostly downloads
      this.dataLeft = this.elephant ? Infinity : random.float() < 0.5 ? random.between(3, 30) : random.between(200, 3000);
      counters.tcpConnections += 1;
      if (midstream) {
        // Already established when the capture starts: nothing in flight.
        this.client.rcvNext = this.server.seq;
        this.server.rcvNext = this.client.seq;
        this.stage = 'data';
      }
    }

    /** Called when the connection is picked for a new packet; false if it is waiting. */
    pick(now) {
      if (this.stage === 'closed') {
        this.open(false); // a new connection (the previous one, if any, has closed)
        this.stage = 'handshake';
        this.segment(this.client, 0x02, 0, now, (arrival) => {
          later(arrival + random.between(4000, 20000), (t) => {
            counters.synAckIdZero += 1;
            this.segment(this.server, 0x12, 0, t, (back) => {
              later(back + random.between(4000, 20000), (t2) => {
                this.segment(this.client, 0x10, 0, t2);
                this.stage = 'data';
              });
            }, { ipId: 0 });
          });
        });
        return true;
      }
      if (this.stage !== 'data') return false;
      if (this.dataLeft <= 0) {
        this.stage = 'closing';
        this.segment(this.client, 0x11, 0, now, (arrival) => {
          later(arrival + random.between(5000, 40000), (t) => {
            this.segment(this.server, 0x11, 0, t, (back) => {
              later(back + random.between(4000, 20000), (t2) => {
                this.segment(this.client, 0x10, 0, t2);
                this.stage = 'closed';
              });
            });
          });
        });
        return true;
      }
      const receiver = this.bulk === this.server ? this.client : this.server;
      const r = random.float();
      if (r < 0.25 && rcvEdge(receiver, now) !== receiver.lastAckSent) {
        this.segment(receiver, 0x10, 0, now); // a pure ACK of what has arrived
      } else if (r < 0.88) {
        this.segment(this.bulk, 0x10, INNER_MSS, now);
        this.dataLeft -= 1;
      } else {
        const side = random.float() < 0.5 ? this.client : this.server;
        this.segment(side, 0x18, random.between(1, 1200), now); // a request or a response
        this.dataLeft -= 1;
      }
      return true;
    }

    /**
     * Sends one segment from `side`. `onArrive(time)` runs once it has reached the peer's bridge
     * (after a retransmission if it was lost). Segments that consume sequence space and are lost
     * are retransmitted: soon (fast retransmit) in the middle of a transfer, else after the RTO.
     */
    segment(side, flags, length, now, onArrive = null, options = {}) {
      const peer = side.peer; // not this.client/server: a retransmission may come after a reopen
      const seq = options.seq ?? side.seq;
      const from = options.from ?? payload.offset(random);
      const consumes = length + (flags & 0x03 ? 1 : 0); // SYN and FIN count one
      if (options.seq === undefined) side.seq = (side.seq + consumes) >>> 0;
      const ack = flags === 0x02 ? 0 : rcvEdge(side, now);
      if (flags & 0x10) side.lastAckSent = ack;
      const syn = (flags & 0x02) !== 0;
      const headerLength = syn ? 40 : 32;
      const ipId = options.ipId ?? side.ipId;
      if (options.ipId === undefined) side.ipId = (side.ipId + 1) & 0xffff;
      const d = ipv4Datagram(headerLength + length, ipId, true, 6, side.ip, peer.ip);
      const at = 20;
      put16(d, at, side.port);
      put16(d, at + 2, peer.port);
      put32(d, at + 4, seq);
      put32(d, at + 8, ack);
      d[at + 12] = (headerLength / 4) << 4;
      d[at + 13] = flags;
      put16(d, at + 14, syn ? 64240 : side.window);
      put16(d, at + 16, 0);
      put16(d, at + 18, 0);
      let o = at + 20;
      if (syn) {
        d[o] = 2; d[o + 1] = 4; put16(d, o + 2, INNER_MSS + 12); // MSS 1410: the vxlan11 MTU's
        d[o + 4] = 4; d[o + 5] = 2; // SACK permitted
        o += 6;
      } else {
        d[o] = 1; d[o + 1] = 1;
        o += 2;
      }
      const ms = Math.floor(now / 1e6);
      d[o] = 8; d[o + 1] = 10;
      put32(d, o + 2, (side.tsClock + ms) >>> 0);
      put32(d, o + 6, flags === 0x02 ? 0 : (peer.tsClock + ms - 1) >>> 0);
      o += 10;
      if (syn) {
        d[o] = 1; d[o + 1] = 3; d[o + 2] = 3; d[o + 3] = 7;
      }
      let sum = sumWords(d, at, headerLength) + payload.copy(d, at + headerLength, from, length);
      sum += pseudoHeaderSum(side.ip, peer.ip, 6, headerLength + length);
      put16(d, at + 16, finish(sum));

      const direction = side.node;
      const packet = makeIpPacket(direction, d, side.mac, peer.mac, side.txPort);
      mix.tcp[direction] += 1;
      countFlow(packet, side.ip, peer.ip, side.port, peer.port, 6);
      if (syn) sample(`tcp syn ${DIRECTION_NAMES[direction]}`, packet);
      if (options.retransmissionOf) {
        options.retransmissionOf.retransmission = packet;
        track(packet);
        counters.retransmissions += 1;
      }
      const arrival = send(packet, now);
      let entry = options.entry;
      if (consumes > 0) {
        if (entry === undefined) {
          entry = { end: (seq + consumes) >>> 0, arrival };
          peer.inbound.push(entry);
        } else {
          entry.arrival = arrival;
        }
      }
      if (arrival === Infinity) {
        if (consumes > 0) {
          const lostRecord = lost[lost.length - 1];
          // Fast retransmit after the duplicate ACKs when more data follows; else the RTO
          // (1 s for a SYN), which also gives the socket a new txhash: a new outer port.
          const fast = this.stage === 'data' && this.dataLeft > 3 && !syn;
          const due = now + (fast ? random.between(300_000, 1_500_000) : syn ? 1_000_000_000 : random.between(200_000_000, 230_000_000));
          later(due, (t) => {
            if (!fast) {
              side.txPort = random.between(32768, 60999);
              counters.rtoRetransmissions += 1;
            }
            this.segment(side, flags, length, t, onArrive, { seq, from, entry, retransmissionOf: lostRecord });
          });
        }
        return;
      }
      if (onArrive !== null) onArrive(arrival);
    }
  }

  /** `ping -i 0.00N` from a pod on one node to a pod on the other. */
  class PingSession {
    constructor() {
      const node = random.below(2);
      this.node = node;
      this.a = { ip: podIp(node + 1, random.between(2, 1 + PODS_PER_NODE)), ipId: random.below(65536) };
      this.a.mac = podMac(node + 1, this.a.ip & 0xff);
      this.b = { ip: podIp(2 - node, random.between(2, 1 + PODS_PER_NODE)), ipId: random.below(65536) };
      this.b.mac = podMac(2 - node, this.b.ip & 0xff);
      this.id = random.below(65536);
      this.sequence = random.between(1, 50);
      this.intervalNs = random.between(1, 5) * 1_000_000;
      this.nextNs = random.below(this.intervalNs);
      this.waiting = false;
    }

    pick(now) {
      if (this.waiting || now < this.nextNs) return false;
      const sentUs = START_US + Math.floor(now / 1000); // unique: stream packets are ≥ 1 µs apart
      const data = this.echo(8, this.a, this.b, sentUs, now, this.node);
      this.nextNs = now + this.intervalNs;
      const arrival = send(data, now);
      if (arrival === Infinity) {
        counters.unansweredEchoRequests += 1;
      } else {
        this.waiting = true;
        later(arrival + random.between(6000, 25000), (t) => {
          const reply = this.echo(0, this.b, this.a, sentUs, t, 1 - this.node);
          send(reply, t);
          this.waiting = false;
          this.sequence = (this.sequence + 1) & 0xffff;
        });
      }
      if (arrival === Infinity) this.sequence = (this.sequence + 1) & 0xffff;
      return true;
    }

    echo(type, from, to, sentUs, now, direction) {
      // Echo requests go with DF (ping's default PMTU discovery), the kernel's replies without.
      const d = ipv4Datagram(64, from.ipId, type === 8, 1, from.ip, to.ip);
      from.ipId = (from.ipId + 1) & 0xffff;
      const at = 20;
      d[at] = type;
      d[at + 1] = 0;
      put16(d, at + 2, 0);
      put16(d, at + 4, this.id);
      put16(d, at + 6, this.sequence);
      // Linux ping's 56 data bytes: struct timeval (64-bit seconds, microseconds), then 0x10, 0x11, ...
      d.writeUInt32LE(Math.floor(sentUs / 1e6) >>> 0, at + 8);
      d.writeUInt32LE(0, at + 12);
      d.writeUInt32LE(sentUs % 1e6, at + 16);
      d.writeUInt32LE(0, at + 20);
      for (let i = 16; i < 56; i++) d[at + 8 + i] = i;
      put16(d, at + 2, finish(sumWords(d, at, 64)));
      const packet = makeIpPacket(direction, d, from.mac, to.mac, symmetricPort(this.a.ip, this.b.ip, this.id, 0, 1));
      mix.icmp[direction] += 1;
      countFlow(packet, from.ip, to.ip, type, this.id, 1);
      sample(`icmp echo ${type === 8 ? 'request' : 'reply'} ${DIRECTION_NAMES[direction]}`, packet);
      return packet;
    }
  }

  /** A UDP datagram with `body` (a Buffer) as payload, checksummed. */
  const udpPacket = (direction, from, to, sport, dport, ipId, body) => {
    const d = ipv4Datagram(8 + body.length, ipId, true, 17, from.ip, to.ip);
    put16(d, 20, sport);
    put16(d, 22, dport);
    put16(d, 24, 8 + body.length);
    put16(d, 26, 0);
    body.copy(d, 28);
    const c = finish(sumWords(d, 20, 8 + body.length) + pseudoHeaderSum(from.ip, to.ip, 17, 8 + body.length));
    put16(d, 26, c === 0 ? 0xffff : c);
    const packet = makeIpPacket(direction, d, from.mac, to.mac, symmetricPort(from.ip, to.ip, sport, dport, 17));
    mix.udp[direction] += 1;
    countFlow(packet, from.ip, to.ip, sport, dport, 17);
    sample(`udp ${DIRECTION_NAMES[direction]}`, packet);
    return packet;
  };

  const SERVICES = ['api', 'web', 'db', 'cache', 'auth', 'search', 'metrics', 'queue'];
  const dnsServers = [0, 1].map((node) => ({ ip: podIp(node + 1, DNS_HOST), mac: podMac(node + 1, DNS_HOST), ids: new Map() }));

  /** A DNS lookup of `<service>.default.svc.cluster.local` to the other node's DNS pod, and its answer. */
  const dnsQuery = (now) => {
    const node = random.below(2);
    const host = random.between(2, 1 + PODS_PER_NODE);
    const client = { ip: podIp(node + 1, host), mac: podMac(node + 1, host) };
    const server = dnsServers[1 - node];
    const sport = random.between(32768, 60999);
    const id = random.below(65536);
    const name = `${random.pick(SERVICES)}-${random.below(100)}.default.svc.cluster.local`;
    const question = Buffer.alloc(12 + name.length + 2 + 4);
    put16(question, 0, id);
    put16(question, 2, 0x0100); // standard query, recursion desired
    put16(question, 4, 1);
    let o = 12;
    for (const label of name.split('.')) {
      question[o++] = label.length;
      question.write(label, o, 'latin1');
      o += label.length;
    }
    question[o++] = 0;
    put16(question, o, 1); // A
    put16(question, o + 2, 1); // IN
    const query = udpPacket(node, client, server, sport, 53, random.below(65536), question);
    const arrival = send(query, now);
    if (arrival === Infinity) {
      counters.unansweredDnsQueries += 1;
      return;
    }
    later(arrival + random.between(20_000, 150_000), (t) => {
      const answer = Buffer.alloc(question.length + 16);
      question.copy(answer);
      put16(answer, 2, 0x8580); // response, authoritative, recursion desired and available
      put16(answer, 6, 1);
      o = question.length;
      put16(answer, o, 0xc00c); // the name: a pointer to the question's
      put16(answer, o + 2, 1);
      put16(answer, o + 4, 1);
      put32(answer, o + 6, 5); // TTL 5 s, CoreDNS's for Services
      put16(answer, o + 10, 4);
      put32(answer, o + 12, ip(10, 96, random.below(256), random.between(1, 254)));
      // The server's replies (unconnected socket): an IP ID counter per destination.
      const idKey = client.ip;
      const ipId = server.ids.get(idKey) ?? random.below(65536);
      server.ids.set(idKey, (ipId + 1) & 0xffff);
      send(udpPacket(1 - node, server, client, 53, sport, ipId, answer), t);
    });
  };

  /** A pod on node2 streaming statsd-like metrics to a collector on node1: one long UDP flow. */
  const METRICS = Buffer.from(
    Array.from({ length: 64 }, (_, i) => `pod.${SERVICES[i % SERVICES.length]}.requests.${i}:${(i * 37) % 1000}|c\n`).join(''),
    'latin1',
  );
  const metrics = { from: { ip: podIp(2, 9), mac: podMac(2, 9) }, to: { ip: podIp(1, 9), mac: podMac(1, 9) }, ipId: random.below(65536) };
  const metricsDatagram = (now) => {
    const length = random.between(40, 400);
    const start = random.below(METRICS.length - length);
    const packet = udpPacket(1, metrics.from, metrics.to, 46000, 8125, metrics.ipId, METRICS.subarray(start, start + length));
    metrics.ipId = (metrics.ipId + 1) & 0xffff;
    send(packet, now);
  };

  /** ARP at one bridge (a pod revalidating its gateway, or the gateway a pod), never leaving the node. */
  const bridgeArp = (now) => {
    const node = random.below(2);
    const n = NODES[node];
    const host = random.between(2, 1 + PODS_PER_NODE);
    const pod = { ip: podIp(node + 1, host), mac: podMac(node + 1, host) };
    const [asker, target] = random.float() < 0.5 ? [pod, { ip: n.bridgeIp, mac: n.bridgeMac }] : [{ ip: n.bridgeIp, mac: n.bridgeMac }, pod];
    // Direction `node`, from position 0 to 0: node1/br0 for node1, node2/br0 for node2.
    const request = makeArpPacket(KIND_BRIDGE_ARP, node, BROADCAST, asker.mac, 1, asker.mac, asker.ip, ZERO_MAC, target.ip);
    mix.bridgeArp[node] += 1;
    sample(`bridge arp request ${POINTS[node === 0 ? 0 : 5]}`, request);
    const t = send(request, now, 0, 0);
    later(t + random.between(3000, 15000), (t2) => {
      const reply = makeArpPacket(KIND_BRIDGE_ARP, node, asker.mac, target.mac, 2, target.mac, target.ip, asker.mac, asker.ip);
      mix.bridgeArp[node] += 1;
      send(reply, t2, 0, 0);
    });
  };

  /** vxlan11 asking the peer's VTEP address (10.244.N.0) through the tunnel, and the answer. */
  const vtepArp = (now) => {
    const node = random.below(2);
    const [a, b] = [NODES[node], NODES[1 - node]];
    const port = symmetricPort(0x0200 | a.number, 0x0200 | b.number, 0, 0, 0x0806);
    const request = makeArpPacket(KIND_VTEP_ARP, node, BROADCAST, a.vtepMac, 1, a.vtepMac, a.vtepIp, ZERO_MAC, b.vtepIp, port);
    mix.vtepArp[node] += 1;
    sample(`vtep arp request ${DIRECTION_NAMES[node]}`, request);
    const arrival = send(request, now, 1, 4);
    later(arrival + random.between(3000, 15000), (t) => {
      const reply = makeArpPacket(KIND_VTEP_ARP, 1 - node, a.vtepMac, b.vtepMac, 2, b.vtepMac, b.vtepIp, a.vtepMac, a.vtepIp, port);
      mix.vtepArp[1 - node] += 1;
      send(reply, t, 1, 4);
    });
  };

  /** eth0 asking the peer node's underlay address, and the answer: seen at both eth0s only. */
  const underlayArp = (now) => {
    const node = random.below(2);
    const [a, b] = [NODES[node], NODES[1 - node]];
    const request = makeArpPacket(KIND_UNDERLAY_ARP, node, BROADCAST, a.eth0Mac, 1, a.eth0Mac, a.eth0Ip, ZERO_MAC, b.eth0Ip);
    mix.underlayArp[node] += 1;
    sample(`underlay arp request ${DIRECTION_NAMES[node]}`, request);
    const arrival = send(request, now, 2, 3);
    later(arrival + random.between(2000, 10000), (t) => {
      const reply = makeArpPacket(KIND_UNDERLAY_ARP, 1 - node, a.eth0Mac, b.eth0Mac, 2, b.eth0Mac, b.eth0Ip, a.eth0Mac, a.eth0Ip);
      mix.underlayArp[1 - node] += 1;
      send(reply, t, 2, 3);
    });
  };

  const connections = Array.from({ length: TCP_SLOTS }, () => new TcpConnection(false));
  const elephants = Array.from({ length: ELEPHANTS }, () => new TcpConnection(true));
  const pings = Array.from({ length: PING_SESSIONS }, () => new PingSession());
  // ARP now and then, on timers in stream time.
  const arpTimers = [
    { next: random.between(50, 400) * 1e6, every: [500e6, 1500e6], fire: bridgeArp },
    { next: random.between(200, 1200) * 1e6, every: [1000e6, 2500e6], fire: vtepArp },
    { next: random.between(500, 2500) * 1e6, every: [2000e6, 4000e6], fire: underlayArp },
  ];

  // --- the stream: one packet a tick, in time order at its first point
  let nowUs = 0;
  let now = 0;
  for (let i = 0; i < packets; i++) {
    nowUs += 1 + Math.floor(-Math.log(1 - random.float()) * (MEAN_GAP_US - 1)); // Poisson, ≥ 1 µs apart
    now = nowUs * 1000 + random.below(1000);
    flush(now);
    if (heap.size > 0 && heap.peek().due <= now) {
      heap.pop().fire(now);
      continue;
    }
    const timer = arpTimers.find((a) => a.next <= now);
    if (timer) {
      timer.next = now + random.between(timer.every[0], timer.every[1]);
      timer.fire(now);
      continue;
    }
    const r = random.float();
    if (r < 0.25) {
      if (random.pick(elephants).pick(now)) continue;
    } else if (r < 0.78) {
      // Skewed: low slots are busier (a few heavy talkers, many light ones).
      if (connections[Math.floor(TCP_SLOTS * random.float() ** 2)].pick(now)) continue;
    } else if (r < 0.93) {
      const start = random.below(PING_SESSIONS);
      let sent = false;
      for (let k = 0; k < PING_SESSIONS && !sent; k++) sent = pings[(start + k) % PING_SESSIONS].pick(now);
      if (sent) continue;
    } else if (r < 0.97) {
      dnsQuery(now);
      continue;
    }
    // Whatever was picked had to wait (a handshake in flight, pings not due): the metrics flow.
    metricsDatagram(now);
  }
  flush(Infinity);
  for (const point of points) point.writer.close();
  const seconds = (performance.now() - started) / 1000;

  // --- the truth
  const hopStats = [0, 1].map((d) =>
    HOPS.map((_, h) => {
      const values = delays[d][h].subarray(0, delayCount[d][h]).sort();
      const n = values.length;
      const from = POINTS[PATHS[d][h]];
      const to = POINTS[PATHS[d][h + 1]];
      const crossing = (h === 2) ? (d === 0 ? skew : -skew) : 0;
      return {
        from,
        to,
        what: HOP_NAMES[h],
        packets: n,
        minNs: n ? values[0] : null,
        medianNs: n ? values[n >> 1] : null,
        p99Ns: n ? values[Math.min(n - 1, Math.floor(n * 0.99))] : null,
        maxNs: n ? values[n - 1] : null,
        // Timestamp differences between the two files: the true delay plus the clock offset.
        fileDeltaOffsetNs: crossing,
      };
    }),
  );
  const wire01 = hopStats[0][2].minNs;
  const wire10 = hopStats[1][2].minNs;
  // In path order (the direction's), only the points that saw the packet.
  const sightings = (packet) =>
    PATHS[packet.direction]
      .filter((p) => packet.frames[p] !== 0)
      .map((p) => ({ point: POINTS[p], file: POINT_FILES[p], frame: packet.frames[p], timestampNs: packet.stamps[p] }));
  const describe = (packet) => ({ kind: KIND_NAMES[packet.kind], direction: DIRECTION_NAMES[packet.direction], ...headerFacts(packet), sightings: sightings(packet) });
  let flowsOver64k = 0;
  let largestFlow = 0;
  for (const n of flowPackets.values()) {
    if (n > 65536) flowsOver64k += 1;
    largestFlow = Math.max(largestFlow, n);
  }
  const lostPackets = lost.map(({ packet, retransmission }) => ({
    ...describe(packet),
    node2Eth0Frame: packet.frames[3],
    retransmission: retransmission === null ? null : describe(retransmission),
  }));

  const truth = {
    schema: TRUTH_SCHEMA,
    generatorVersion: PATH_GENERATOR_VERSION,
    seed,
    streamPackets: packets,
    startTimeNs: String(START_NS),
    durationNs: String(Math.round(now)),
    timestampPrecision: nanosecond ? 'ns' : 'us',
    vni: VNI,
    udpPort: VXLAN_PORT,
    clock: {
      // A node's files hold true time + its offset. node1 is the reference.
      offsetsNs: { node1: 0, node2: skew },
      skewNs: skew,
      driftPpm,
      meaning: 'timestamp in node2-*.pcap = true time + skewNs + true time since the start × driftPpm / 1e6; node1-*.pcap hold true time',
      // What the NTP-style estimate from the minimum one-way eth0→eth0 delays comes to:
      // skew + (min delay node1→node2 - min delay node2→node1) / 2.
      minOneWayNs: { 'node1→node2': wire01, 'node2→node1': wire10 },
      ntpEstimateNs: skew + (wire01 - wire10) / 2,
    },
    points: points.map((p) => ({
      point: p.name,
      file: p.file,
      node: `node${p.node + 1}`,
      clockOffsetNs: offsets[p.node],
      packets: p.frames,
      bytes: statSync(p.path).size,
      kinds: Object.fromEntries(KIND_NAMES.map((k, i) => [k, p.kinds[i]])),
    })),
    order: Object.fromEntries(PATHS.map((path, d) => [DIRECTION_NAMES[d], path.map((p) => POINTS[p])])),
    mix: Object.fromEntries(Object.entries(mix).map(([k, v]) => [k, { 'node1→node2': v[0], 'node2→node1': v[1] }])),
    tcp: {
      connections: counters.tcpConnections,
      retransmissions: counters.retransmissions,
      retransmissionsAfterTimeout: counters.rtoRetransmissions,
      synAcksWithIpIdZero: counters.synAckIdZero,
    },
    ipIds: {
      flowDirections: flowPackets.size,
      largestFlowDirectionPackets: largestFlow,
      flowDirectionsOver65536Packets: flowsOver64k,
    },
    hops: Object.fromEntries(hopStats.map((list, d) => [DIRECTION_NAMES[d], list])),
    loss: {
      rate: loss,
      direction: DIRECTION_NAMES[LOSS_DIRECTION],
      after: POINTS[PATHS[LOSS_DIRECTION][LOSS_AFTER_POSITION]],
      before: POINTS[PATHS[LOSS_DIRECTION][LOSS_AFTER_POSITION + 1]],
      count: lost.length,
      byProtocol: countBy(lostPackets, (l) => l.protocol),
      unansweredEchoRequests: counters.unansweredEchoRequests,
      unansweredDnsQueries: counters.unansweredDnsQueries,
      node2Eth0Frames: lostPackets.map((l) => l.node2Eth0Frame),
      packets: lostPackets,
    },
    samples: [...samples.entries()].map(([name, packet]) => ({ name, ...describe(packet) })),
    seconds,
  };
  writeFileSync(join(dir, 'truth.json'), JSON.stringify(truth, null, 1) + '\n');
  return truth;
}

function countBy(list, key) {
  const out = {};
  for (const item of list) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
}

/** What identifies a packet, read back from its bytes (for truth.json). */
function headerFacts(packet) {
  const d = packet.data;
  if (packet.kind !== KIND_IP) {
    return {
      protocol: 'arp',
      op: d.readUInt16BE(20) === 1 ? 'request' : 'reply',
      senderIp: ipText(d.readUInt32BE(28)),
      targetIp: ipText(d.readUInt32BE(38)),
    };
  }
  const protocol = d[9];
  const facts = {
    protocol: protocol === 6 ? 'tcp' : protocol === 17 ? 'udp' : protocol === 1 ? 'icmp' : String(protocol),
    src: ipText(d.readUInt32BE(12)),
    dst: ipText(d.readUInt32BE(16)),
    ipId: d.readUInt16BE(4),
    length: d.length,
  };
  if (protocol === 6) {
    facts.srcPort = d.readUInt16BE(20);
    facts.dstPort = d.readUInt16BE(22);
    facts.tcpSeq = d.readUInt32BE(24);
    facts.tcpAck = d.readUInt32BE(28);
    facts.tcpFlags = d[33];
    facts.payloadLength = d.length - 20 - (d[32] >> 4) * 4;
  } else if (protocol === 17) {
    facts.srcPort = d.readUInt16BE(20);
    facts.dstPort = d.readUInt16BE(22);
    facts.payloadLength = d.length - 28;
  } else if (protocol === 1) {
    facts.icmpType = d[20];
    facts.icmpId = d.readUInt16BE(24);
    facts.icmpSeq = d.readUInt16BE(26);
  }
  facts.outerPort = packet.outerPort;
  return facts;
}

// Standalone use.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  let opts;
  try {
    ({ values: opts } = parseArgs({
      options: {
        packets: { type: 'string', default: '1000000' },
        out: { type: 'string', default: '.' },
        seed: { type: 'string', default: String(PATH_DEFAULT_SEED) },
        'skew-ns': { type: 'string', default: String(DEFAULT_SKEW_NS) },
        loss: { type: 'string', default: String(DEFAULT_LOSS) },
        'drift-ppm': { type: 'string', default: '0' },
        microseconds: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    console.error(`generate-path: ${error.message}`);
    process.exit(2);
  }
  const packets = Number(opts.packets);
  if (!(Number.isInteger(packets) && packets > 0)) {
    console.error('generate-path: --packets takes a positive integer');
    process.exit(2);
  }
  let truth;
  try {
    truth = generatePath({
      packets,
      dir: opts.out,
      seed: Number(opts.seed),
      skewNs: Number(opts['skew-ns']),
      loss: Number(opts.loss),
      driftPpm: Number(opts['drift-ppm']),
      nanosecond: !opts.microseconds,
    });
  } catch (error) {
    console.error(`generate-path: ${error.message}`);
    process.exit(2);
  }
  const { packets: _lostList, node2Eth0Frames: _frames, ...lossSummary } = truth.loss;
  console.log(`${packets.toLocaleString('en-US')} stream packets in ${truth.seconds.toFixed(1)} s into ${opts.out}`);
  for (const p of truth.points) console.log(`  ${p.file.padEnd(20)} ${String(p.packets).padStart(9)} packets ${(p.bytes / 1e6).toFixed(1).padStart(8)} MB`);
  console.log(`clock: node2 = node1 ${truth.clock.skewNs >= 0 ? '+' : ''}${truth.clock.skewNs} ns (NTP-style estimate from the minimum delays: ${truth.clock.ntpEstimateNs} ns)${truth.clock.driftPpm === 0 ? '' : `, drifting ${truth.clock.driftPpm} ppm`}`);
  console.log(`loss: ${JSON.stringify(lossSummary)}`);
  console.log(`truth: ${join(opts.out, 'truth.json')}`);
}
