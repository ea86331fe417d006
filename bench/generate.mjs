// The synthetic capture for `npm run bench`: VXLAN underlay traffic as eth0 of a flannel node
// sees it, written with vxdump's own pcap and pcapng writers.
//
// Deterministic: one seeded PRNG drives everything and time starts at a fixed instant, so two
// runs with the same options write byte-identical files (numbers stay comparable over time).
//
// The mix follows issue 2: ~70% inner TCP (handshakes, bulk segments, ACKs, FINs, payloads of
// 0-1398 bytes), ~20% ICMP echo, ~5% ARP between VTEPs (inside VXLAN), ~5% plain underlay
// traffic between the nodes (API server/etcd/kubelet TCP, memberlist UDP); ~800 bytes a frame.
//
//   node bench/generate.mjs --packets 100000 --out /tmp/cap    (writes bench.pcap, bench.pcapng)

import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PcapngWriter, PcapWriter } from '../dist/capture/writer.js';

/** Bump when the traffic model changes, so that a reused folder is regenerated. */
export const GENERATOR_VERSION = 1;
export const DEFAULT_SEED = 0x5eed0002;
/** 2024-03-12T09:00:00Z, in microseconds (both formats then carry exactly the same times). */
const START_US = Date.UTC(2024, 2, 12, 9, 0, 0) * 1000;
/** Mean gap between frames: ~80k frames/s, ~520 Mbit/s on the underlay. */
const MEAN_GAP_US = 12;

const FLANNEL_PORT = 8472;
const NODES = 4; // node n: eth0 10.211.55.(120+n), pods 10.244.n.0/24
const PODS_PER_NODE = 30;
const TCP_SLOTS = 160; // concurrent inner TCP connections; each reconnects when it closes
const PING_SESSIONS = 40;
const UNDERLAY_TCP_FLOWS = 12;
/** VNI 1 is flannel's; the others stand for extra overlays (tenants) on the same nodes. */
const VNIS = [1, 1, 1, 1, 1, 1, 1, 11, 100, 4097];
const INNER_MSS = 1398; // overlay MTU 1450 - IPv4 20 - TCP 32 (with timestamps)
const UNDERLAY_MSS = 1448; // underlay MTU 1500 - IPv4 20 - TCP 32
const SERVER_PORTS = [80, 443, 8080, 5432, 6379, 9090, 3306, 8443];
const UNDERLAY_PORTS = [6443, 2379, 2380, 10250];

// ---------------------------------------------------------------------------------------------
// PRNG: sfc32 seeded through splitmix32. Fast, 32-bit, the same on every platform.

export function makeRandom(seed) {
  let s = seed >>> 0;
  const splitmix = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  const u32 = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  const float = () => u32() / 4294967296;
  return {
    u32,
    float,
    /** Integer in [0, n). */
    below: (n) => Math.floor(float() * n),
    /** Integer in [lo, hi]. */
    between: (lo, hi) => lo + Math.floor(float() * (hi - lo + 1)),
    pick: (list) => list[Math.floor(float() * list.length)],
  };
}

// ---------------------------------------------------------------------------------------------
// Payload pool. Payload bytes are slices of one random pool (TLS-like), taken at even offsets,
// so that a slice's 16-bit one's-complement sum comes from prefix sums in O(1): the TCP/UDP
// checksum of a 1400-byte segment then costs as much as one of an empty segment.

const POOL_BYTES = 256 * 1024;
const MAX_PAYLOAD = 1500;

function makePayloadPool(random) {
  const pool = Buffer.allocUnsafe(POOL_BYTES);
  for (let i = 0; i < POOL_BYTES; i += 4) pool.writeUInt32LE(random.u32(), i);
  // prefix[k] = sum of the first k big-endian 16-bit words (< 2^53, exact in a double)
  const prefix = new Float64Array(POOL_BYTES / 2 + 1);
  for (let k = 0; k < POOL_BYTES / 2; k++) prefix[k + 1] = prefix[k] + ((pool[2 * k] << 8) | pool[2 * k + 1]);
  return { pool, prefix };
}

// ---------------------------------------------------------------------------------------------
// Frame crafting into one reused buffer. Offsets: outer Ethernet 0, outer IPv4 14, UDP 34,
// VXLAN 42, inner Ethernet 50, inner IPv4 64, inner L4 84. Plain underlay: IPv4 14, L4 34.

const OUTER = 50; // outer Ethernet + IPv4 + UDP + VXLAN

class FrameCrafter {
  constructor(payload) {
    this.frame = Buffer.alloc(2048);
    /** The TCP header fields of the segment being built (one reused object). */
    this.segment = { sport: 0, dport: 0, seq: 0, ack: 0, flags: 0, window: 0, mss: 0, tsval: 0, tsecr: 0 };
    this.pool = payload.pool;
    this.prefix = payload.prefix;
  }

  ethernet(at, dst, src, etherType) {
    const f = this.frame;
    for (let i = 0; i < 6; i++) f[at + i] = dst[i];
    for (let i = 0; i < 6; i++) f[at + 6 + i] = src[i];
    f[at + 12] = etherType >>> 8;
    f[at + 13] = etherType & 0xff;
  }

  /** IPv4 header without options, checksum included. */
  ipv4(at, totalLength, id, dontFragment, ttl, protocol, src, dst) {
    const f = this.frame;
    f[at] = 0x45;
    f[at + 1] = 0;
    put16(f, at + 2, totalLength);
    put16(f, at + 4, id);
    put16(f, at + 6, dontFragment ? 0x4000 : 0);
    f[at + 8] = ttl;
    f[at + 9] = protocol;
    put16(f, at + 10, 0);
    put32(f, at + 12, src);
    put32(f, at + 16, dst);
    put16(f, at + 10, finish(sumWords(f, at, 20)));
  }

  /** Copies `length` payload bytes from the pool to `at`; returns their word sum. */
  payload(at, length, random) {
    if (length === 0) return 0;
    const from = 2 * random.below((POOL_BYTES - MAX_PAYLOAD) / 2);
    this.pool.copy(this.frame, at, from, from + length);
    const words = length >>> 1;
    let sum = this.prefix[(from >>> 1) + words] - this.prefix[from >>> 1];
    if (length & 1) sum += this.pool[from + length - 1] << 8;
    return sum;
  }

  /**
   * TCP header with Linux's options (SYN: MSS, SACK permitted, timestamps, window scale; else
   * NOP NOP timestamps), the payload, and the checksum over the pseudo-header.
   */
  tcp(at, src, dst, t, payloadLength, random) {
    const f = this.frame;
    const syn = (t.flags & 0x02) !== 0;
    const headerLength = syn ? 40 : 32;
    put16(f, at, t.sport);
    put16(f, at + 2, t.dport);
    put32(f, at + 4, t.seq);
    put32(f, at + 8, t.ack);
    f[at + 12] = (headerLength / 4) << 4;
    f[at + 13] = t.flags;
    put16(f, at + 14, t.window);
    put16(f, at + 16, 0);
    put16(f, at + 18, 0);
    let o = at + 20;
    if (syn) {
      f[o] = 2; f[o + 1] = 4; put16(f, o + 2, t.mss); // MSS
      f[o + 4] = 4; f[o + 5] = 2; // SACK permitted
      o += 6;
    } else {
      f[o] = 1; f[o + 1] = 1; // NOP NOP
      o += 2;
    }
    f[o] = 8; f[o + 1] = 10; put32(f, o + 2, t.tsval); put32(f, o + 6, t.tsecr); // timestamps
    o += 10;
    if (syn) {
      f[o] = 1; f[o + 1] = 3; f[o + 2] = 3; f[o + 3] = 7; // NOP, window scale 7
    }
    const segmentLength = headerLength + payloadLength;
    let sum = sumWords(f, at, headerLength) + this.payload(at + headerLength, payloadLength, random);
    sum += pseudoHeaderSum(src, dst, 6, segmentLength);
    put16(f, at + 16, finish(sum));
    return segmentLength;
  }

  /** UDP header; checksum 0 (as Linux sends VXLAN) unless src/dst are given. */
  udp(at, sport, dport, length, payloadSum, src, dst) {
    const f = this.frame;
    put16(f, at, sport);
    put16(f, at + 2, dport);
    put16(f, at + 4, length);
    put16(f, at + 6, 0);
    if (src !== undefined) {
      const checksum = finish(sumWords(f, at, 8) + payloadSum + pseudoHeaderSum(src, dst, 17, length));
      put16(f, at + 6, checksum === 0 ? 0xffff : checksum);
    }
  }

  /** Outer Ethernet/IPv4/UDP/VXLAN around an inner frame of `innerLength` bytes already at OUTER. */
  encapsulate(pair, vni, innerLength, sourcePort) {
    const f = this.frame;
    this.ethernet(0, pair.to.mac, pair.from.mac, 0x0800);
    // Linux's vxlan: DF clear by default, TTL 64, IP ID counting per destination.
    this.ipv4(14, 20 + 8 + 8 + innerLength, pair.nextId(), false, 64, 17, pair.from.ip, pair.to.ip);
    this.udp(34, sourcePort, FLANNEL_PORT, 8 + 8 + innerLength);
    f[42] = 0x08; // I flag: VNI valid
    f[43] = 0; f[44] = 0; f[45] = 0;
    f[46] = (vni >>> 16) & 0xff; f[47] = (vni >>> 8) & 0xff; f[48] = vni & 0xff;
    f[49] = 0;
    return OUTER + innerLength;
  }
}

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
  for (let i = at; i < at + length; i += 2) sum += (f[i] << 8) | f[i + 1];
  return sum;
}

function pseudoHeaderSum(src, dst, protocol, length) {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}

/** One's-complement fold and invert. Sums stay far below 2^53, so plain arithmetic is exact. */
function finish(sum) {
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/**
 * The outer UDP source port as Linux picks it (udp_flow_src_port): a hash of the inner flow,
 * scaled into the local port range 32768-60999. The hash is a murmur3-style mix of the tuple.
 */
function flowSourcePort(a, b, c, d) {
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

const ip = (a, b, c, d) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

// ---------------------------------------------------------------------------------------------
// The cluster: nodes with eth0 and one VTEP per VNI, VTEP pairs with their outer IP ID counter.

function makeCluster(random) {
  const nodes = [];
  for (let n = 1; n <= NODES; n++) {
    const vtepMacs = new Map();
    for (const vni of new Set(VNIS)) {
      // Locally administered unicast, like the random MACs the kernel gives vxlan devices.
      const mac = [0x02 | (random.below(64) << 2), random.below(256), random.below(256), random.below(256), random.below(256), random.below(256)];
      vtepMacs.set(vni, Uint8Array.from(mac));
    }
    nodes.push({
      number: n,
      ip: ip(10, 211, 55, 120 + n),
      mac: Uint8Array.from([0x00, 0x1c, 0x42, 0x5a, 0x10, n]), // Parallels' OUI: 10.211.55.0/24 is its network
      vtepMacs,
      clockMs: random.u32(), // TCP timestamp clock offset
    });
  }
  const pairs = new Map();
  const pair = (from, to) => {
    const key = from.number * 100 + to.number;
    let p = pairs.get(key);
    if (p === undefined) {
      let id = random.below(65536);
      p = { from, to, nextId: () => (id = (id + 1) & 0xffff) };
      pairs.set(key, p);
    }
    return p;
  };
  const podIp = (node, host) => ip(10, 244, node.number, host);
  const otherNode = (node) => nodes[(node.number - 1 + 1 + random.below(NODES - 1)) % NODES];
  return { nodes, pair, podIp, otherNode };
}

// ---------------------------------------------------------------------------------------------
// Traffic sources. Each `emit(crafter, random, nowMs)` writes one frame at offset 0 and returns
// its length.

/** One side of a TCP connection: what its next segment carries. */
function tcpSide(random, node, ip, port, mss) {
  return { node, ip, port, seq: random.u32(), acked: -1, ipId: random.below(65536), window: random.between(200, 3000), mss };
}

/** An inner TCP connection between two pods: handshake, data, FIN; then a new connection. */
class TcpConnection {
  constructor(cluster, random, stats) {
    this.cluster = cluster;
    this.stats = stats;
    this.open(random, random.float() < 0.5); // half are already running when the capture starts
  }

  open(random, midstream) {
    const c = this.cluster;
    const clientNode = random.pick(c.nodes);
    const serverNode = c.otherNode(clientNode);
    this.vni = random.pick(VNIS);
    this.client = tcpSide(random, clientNode, c.podIp(clientNode, random.between(2, PODS_PER_NODE + 1)), random.between(32768, 60999), INNER_MSS);
    this.server = tcpSide(random, serverNode, c.podIp(serverNode, random.between(2, PODS_PER_NODE + 1)), random.pick(SERVER_PORTS), INNER_MSS);
    this.bulk = random.float() < 0.75 ? this.server : this.client; // mostly downloads
    // Short request/response exchanges, and some long transfers (elephants).
    this.dataLeft = random.float() < 0.5 ? random.between(5, 60) : random.between(1000, 10000);
    this.state = midstream ? 3 : 0;
    this.stats.tcpConnections += 1;
  }

  emit(crafter, random, nowMs) {
    const { client, server } = this;
    let from;
    let flags;
    let length = 0;
    switch (this.state) {
      case 0: from = client; flags = 0x02; break; // SYN
      case 1: from = server; flags = 0x12; break; // SYN/ACK
      case 2: from = client; flags = 0x10; break; // ACK
      case 3: {
        const r = random.float();
        const receiver = this.bulk === server ? client : server;
        // A pure ACK only when there is something new to acknowledge (else Wireshark sees duplicate ACKs).
        if (r < 0.85 && (r < 0.5 || receiver.acked === this.bulk.seq)) { from = this.bulk; flags = 0x10; length = INNER_MSS; } // full segment
        else if (r < 0.85) { from = receiver; flags = 0x10; } // pure ACK
        else { from = random.float() < 0.5 ? client : server; flags = 0x18; length = random.between(1, INNER_MSS - 1); } // PSH
        break;
      }
      case 4: from = client; flags = 0x11; break; // FIN/ACK
      case 5: from = server; flags = 0x11; break; // FIN/ACK
      default: from = client; flags = 0x10; break; // last ACK
    }
    const to = from === client ? server : client;
    const segment = crafter.segment;
    segment.sport = from.port;
    segment.dport = to.port;
    segment.seq = from.seq;
    segment.ack = flags === 0x02 ? 0 : to.seq;
    segment.flags = flags;
    segment.window = flags & 0x02 ? 64240 : from.window;
    segment.mss = from.mss;
    segment.tsval = (from.node.clockMs + nowMs) >>> 0;
    segment.tsecr = flags === 0x02 ? 0 : (to.node.clockMs + nowMs - 1) >>> 0;

    const tcpLength = crafter.tcp(84, from.ip, to.ip, segment, length, random);
    crafter.ipv4(64, 20 + tcpLength, from.ipId, true, 63, 6, from.ip, to.ip); // TTL 64 - 1: routed into the VTEP
    crafter.ethernet(50, to.node.vtepMacs.get(this.vni), from.node.vtepMacs.get(this.vni), 0x0800);
    from.ipId = (from.ipId + 1) & 0xffff;
    from.seq = (from.seq + length + (flags & 0x03 ? 1 : 0)) >>> 0; // SYN and FIN count one
    from.acked = segment.ack;
    const port = flowSourcePort(from.ip, to.ip, (from.port << 16) | to.port, 6);
    const frameLength = crafter.encapsulate(this.cluster.pair(from.node, to.node), this.vni, 14 + 20 + tcpLength, port);

    // Data goes on until the connection's budget is spent; then FIN, FIN, ACK, and a new connection.
    if (this.state !== 3 || --this.dataLeft === 0) this.state += 1;
    if (this.state === 7) this.open(random, false);
    return frameLength;
  }
}

/** `ping` between two pods: echo request, echo reply, next sequence number. */
class PingSession {
  constructor(cluster, random) {
    const c = cluster;
    this.cluster = cluster;
    const aNode = random.pick(c.nodes);
    const bNode = c.otherNode(aNode);
    this.vni = random.pick(VNIS);
    this.a = { node: aNode, ip: c.podIp(aNode, random.between(2, PODS_PER_NODE + 1)), ipId: random.below(65536) };
    this.b = { node: bNode, ip: c.podIp(bNode, random.between(2, PODS_PER_NODE + 1)), ipId: random.below(65536) };
    this.id = random.below(65536);
    this.sequence = 1;
    this.replyNext = false;
  }

  emit(crafter, random, nowMs, nowUs) {
    const reply = this.replyNext;
    const from = reply ? this.b : this.a;
    const to = reply ? this.a : this.b;
    const f = crafter.frame;
    const at = 84;
    f[at] = reply ? 0 : 8; // echo reply / echo request
    f[at + 1] = 0;
    put16(f, at + 2, 0);
    put16(f, at + 4, this.id);
    put16(f, at + 6, this.sequence);
    // Linux ping's 56 data bytes: struct timeval (little-endian 64-bit seconds and microseconds), then 0x10, 0x11, ...
    const sentUs = reply ? this.sentUs : nowUs;
    if (!reply) this.sentUs = nowUs;
    f.writeUInt32LE(Math.floor(sentUs / 1e6) >>> 0, at + 8);
    f.writeUInt32LE(0, at + 12);
    f.writeUInt32LE(sentUs % 1e6, at + 16);
    f.writeUInt32LE(0, at + 20);
    for (let i = 16; i < 56; i++) f[at + 8 + i] = i;
    put16(f, at + 2, finish(sumWords(f, at, 64)));
    crafter.ipv4(64, 20 + 64, from.ipId, true, 63, 1, from.ip, to.ip);
    crafter.ethernet(50, to.node.vtepMacs.get(this.vni), from.node.vtepMacs.get(this.vni), 0x0800);
    from.ipId = (from.ipId + 1) & 0xffff;
    const port = flowSourcePort(from.ip, to.ip, 1, this.id);
    const frameLength = crafter.encapsulate(this.cluster.pair(from.node, to.node), this.vni, 14 + 20 + 64, port);
    if (reply) this.sequence = (this.sequence + 1) & 0xffff;
    this.replyNext = !reply;
    return frameLength;
  }
}

/** A VTEP asking its peer's VTEP address (10.244.n.0) over the tunnel, and the answer. */
function emitArp(crafter, cluster, random, state) {
  const f = crafter.frame;
  const reply = state.replyNext;
  if (!reply) {
    state.asker = random.pick(cluster.nodes);
    state.target = cluster.otherNode(state.asker);
    state.vni = random.pick(VNIS);
  }
  const { asker, target, vni } = state;
  const from = reply ? target : asker;
  const to = reply ? asker : target;
  const fromMac = from.vtepMacs.get(vni);
  const toMac = to.vtepMacs.get(vni);
  crafter.ethernet(50, reply ? toMac : BROADCAST, fromMac, 0x0806);
  const at = 64;
  put16(f, at, 1); // Ethernet
  put16(f, at + 2, 0x0800); // IPv4
  f[at + 4] = 6;
  f[at + 5] = 4;
  put16(f, at + 6, reply ? 2 : 1);
  for (let i = 0; i < 6; i++) f[at + 8 + i] = fromMac[i];
  put32(f, at + 14, vtepIp(from, vni));
  for (let i = 0; i < 6; i++) f[at + 18 + i] = reply ? toMac[i] : 0;
  put32(f, at + 24, vtepIp(to, vni));
  state.replyNext = !reply;
  const port = flowSourcePort(fromMac[5] | (fromMac[4] << 8), toMac[5] | (toMac[4] << 8), 0x0806, vni);
  return crafter.encapsulate(cluster.pair(from, to), vni, 14 + 28, port);
}

/**
 * A VTEP's own overlay address: 10.244.n.0 on flannel.1 (VNI 1); the other overlays reuse the pod
 * addresses (tenants overlap, which is what VNIs are for) but give their VTEPs distinct ones.
 */
function vtepIp(node, vni) {
  return ip(10, 244, node.number, vni === 1 ? 0 : 250 + VTEP_SUFFIX.get(vni));
}

const VTEP_SUFFIX = new Map([...new Set(VNIS)].filter((v) => v !== 1).map((v, i) => [v, i]));

const BROADCAST = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/** Node-to-node traffic outside the overlay: long-lived TLS connections, memberlist gossip. */
class Underlay {
  constructor(cluster, random) {
    this.cluster = cluster;
    this.flows = [];
    for (let i = 0; i < UNDERLAY_TCP_FLOWS; i++) {
      const clientNode = random.pick(cluster.nodes);
      const serverNode = cluster.otherNode(clientNode);
      this.flows.push({
        client: tcpSide(random, clientNode, clientNode.ip, random.between(32768, 60999), UNDERLAY_MSS),
        server: tcpSide(random, serverNode, serverNode.ip, random.pick(UNDERLAY_PORTS), UNDERLAY_MSS),
      });
    }
    this.udpIds = cluster.nodes.map(() => random.below(65536));
  }

  emit(crafter, random, nowMs) {
    const f = crafter.frame;
    const c = this.cluster;
    if (random.float() < 0.3) {
      // memberlist gossip (UDP 7946), 60-300 bytes
      const from = random.pick(c.nodes);
      const to = c.otherNode(from);
      const length = random.between(60, 300);
      const sum = crafter.payload(42, length, random);
      crafter.udp(34, 7946, 7946, 8 + length, sum, from.ip, to.ip);
      const id = this.udpIds[from.number - 1];
      this.udpIds[from.number - 1] = (id + 1) & 0xffff;
      crafter.ipv4(14, 20 + 8 + length, id, true, 64, 17, from.ip, to.ip);
      crafter.ethernet(0, to.mac, from.mac, 0x0800);
      return 14 + 20 + 8 + length;
    }
    const flow = random.pick(this.flows);
    const r = random.float();
    let from;
    let length;
    let flags = 0x10;
    if (r < 0.4) { from = random.float() < 0.5 ? flow.client : flow.server; length = 0; } // ACK
    else if (r < 0.85) { from = random.float() < 0.5 ? flow.client : flow.server; length = random.between(30, 900); flags = 0x18; } // TLS records
    else { from = flow.server; length = UNDERLAY_MSS; }
    const to = from === flow.client ? flow.server : flow.client;
    const s = crafter.segment;
    s.sport = from.port;
    s.dport = to.port;
    s.seq = from.seq;
    s.ack = to.seq;
    s.flags = flags;
    s.window = from.window;
    s.mss = from.mss;
    s.tsval = (from.node.clockMs + nowMs) >>> 0;
    s.tsecr = (to.node.clockMs + nowMs - 1) >>> 0;
    const tcpLength = crafter.tcp(34, from.ip, to.ip, s, length, random);
    crafter.ipv4(14, 20 + tcpLength, from.ipId, true, 64, 6, from.ip, to.ip);
    crafter.ethernet(0, to.node.mac, from.node.mac, 0x0800);
    from.ipId = (from.ipId + 1) & 0xffff;
    from.seq = (from.seq + length) >>> 0;
    return 14 + 20 + tcpLength;
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * Writes `packets` frames to each of `outputs` ({ format: 'pcap'|'pcapng', path, packets? }):
 * an output with its own `packets` gets only that many first frames (a prefix of the same
 * capture, for slow contenders). Returns what was written.
 */
export function generate({ packets, outputs, seed = DEFAULT_SEED, overwrite = false }) {
  const started = performance.now();
  const random = makeRandom(seed);
  const cluster = makeCluster(random);
  const crafter = new FrameCrafter(makePayloadPool(random));
  const stats = { tcp: 0, icmp: 0, arp: 0, underlay: 0, tcpConnections: 0, frameBytes: 0 };
  const connections = Array.from({ length: TCP_SLOTS }, () => new TcpConnection(cluster, random, stats));
  const pings = Array.from({ length: PING_SESSIONS }, () => new PingSession(cluster, random));
  const underlay = new Underlay(cluster, random);
  const arp = { replyNext: false };

  const writers = outputs.map((output) => {
    const limit = output.packets ?? packets;
    if (output.format === 'pcap') {
      const w = new PcapWriter(output.path, { linkType: 1, overwrite });
      return { limit, write: (frame) => w.write(frame), close: () => w.close() };
    }
    const w = new PcapngWriter(output.path, { overwrite });
    const eth0 = w.addInterface({ linkType: 1, name: 'eth0' });
    return { limit, write: (frame) => w.write(frame, eth0), close: () => w.close() };
  });
  let open = writers.slice();
  let nextLimit = Math.min(...open.map((w) => w.limit));

  // One view per length onto the reused frame buffer: no allocation per frame for `bytes`.
  const views = Array.from({ length: crafter.frame.length + 1 }, (_, n) => crafter.frame.subarray(0, n));
  const record = { timestampNs: 0n, bytes: views[0], originalLength: 0 };
  let nowUs = START_US;

  for (let i = 0; i < packets; i++) {
    nowUs += 1 + Math.floor(-Math.log(1 - random.float()) * (MEAN_GAP_US - 1)); // Poisson arrivals, 1 µs apart at least
    const nowMs = Math.floor((nowUs - START_US) / 1000);
    const r = random.float();
    let length;
    if (r < 0.7) {
      // Skewed choice: low slots are busier (a few heavy talkers, many light ones).
      const slot = Math.floor(TCP_SLOTS * random.float() ** 2);
      length = connections[slot].emit(crafter, random, nowMs);
      stats.tcp++;
    } else if (r < 0.9) {
      length = random.pick(pings).emit(crafter, random, nowMs, nowUs);
      stats.icmp++;
    } else if (r < 0.95) {
      length = emitArp(crafter, cluster, random, arp);
      stats.arp++;
    } else {
      length = underlay.emit(crafter, random, nowMs);
      stats.underlay++;
    }
    stats.frameBytes += length;
    record.timestampNs = BigInt(nowUs) * 1000n;
    record.bytes = views[length];
    record.originalLength = length;
    for (let w = 0; w < open.length; w++) open[w].write(record);
    if (i + 1 === nextLimit) {
      // A prefix output is complete: close it, write on to the others.
      for (const w of open) if (w.limit === nextLimit) w.close();
      open = open.filter((w) => w.limit !== nextLimit);
      nextLimit = Math.min(...open.map((w) => w.limit));
    }
  }
  for (const w of open) w.close();

  return {
    generatorVersion: GENERATOR_VERSION,
    seed,
    packets,
    startTimeNs: String(BigInt(START_US) * 1000n),
    mix: { tcp: stats.tcp, icmp: stats.icmp, arp: stats.arp, underlay: stats.underlay },
    tcpConnections: stats.tcpConnections,
    averageFrameBytes: stats.frameBytes / packets,
    files: outputs.map((o) => ({ format: o.format, path: o.path, packets: o.packets ?? packets, bytes: statSync(o.path).size })),
    seconds: (performance.now() - started) / 1000,
  };
}

// Standalone use: node bench/generate.mjs [--packets N] [--out DIR] [--seed N]
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const option = (name, fallback) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : fallback;
  };
  const packets = Number(option('--packets', '1000000'));
  const dir = option('--out', '.');
  const seed = Number(option('--seed', String(DEFAULT_SEED)));
  mkdirSync(dir, { recursive: true });
  const result = generate({
    packets,
    seed,
    overwrite: true,
    outputs: [
      { format: 'pcap', path: join(dir, 'bench.pcap') },
      { format: 'pcapng', path: join(dir, 'bench.pcapng') },
    ],
  });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(result, null, 2) + '\n');
  console.log(JSON.stringify(result, null, 2));
}
