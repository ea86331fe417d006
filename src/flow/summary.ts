import { frameNanosecondOfSecond, frameSeconds } from '../capture/frame.js';
import { ArpLayer, type EthLayer, isMalformed, isTruncated, type Packet } from '../dissect/index.js';

/*
 * What a whole capture says about an overlay: which tunnels carry which VNIs, who talks to whom
 * inside them, which inner MAC lives behind which VTEP, and what went wrong. Built packet by
 * packet from numbers only; strings are made when the summary is printed.
 */

export interface VniCount {
  vni: number;
  packets: number;
  bytes: number;
}

export interface Tunnel {
  outerSrc: number;
  outerDst: number;
  udpPort: number;
  vnis: Set<number>;
  packets: number;
  bytes: number;
}

/** An inner conversation: both directions of one 5-tuple inside one VNI. */
export interface Conversation {
  /** null for traffic outside any tunnel. */
  vni: number | null;
  protocol: number;
  /** Endpoints as first seen: a is the side that sent the first packet. */
  a: number;
  aPort: number;
  b: number;
  bPort: number;
  packets: number;
  bytes: number;
  firstNs: bigint;
  lastNs: bigint;
}

/** An inner MAC seen behind a VTEP: what a learning VTEP's forwarding database would hold. */
export interface FdbEntry {
  vni: number;
  mac: number;
  vtep: number;
  /** IPv4 addresses the MAC claimed in ARP (who-has / is-at), if any. */
  ips: Set<number>;
  packets: number;
}

export interface ArpExchange {
  vni: number | null;
  /** Opcode 1 (request) or 2 (reply). */
  opcode: number;
  senderIp: number;
  senderMac: number;
  targetIp: number;
  packets: number;
}

export interface OversizeFrame {
  file: string;
  frame: number;
  vni: number | null;
  innerLength: number;
}

/** A summary as plain data: CaptureSummary.state() and merge() (for a capture read in parts). */
export interface SummaryState {
  /** packets, bytes, vxlanPackets, malformed, truncated, badHeaderChecksums, badTransportChecksums. */
  counts: number[];
  /** [vni, packets, bytes] */
  vnis: [number, number, number][];
  /** [outer src, outer dst, UDP port, packets, bytes, VNIs] in the order first seen. */
  tunnels: [number, number, number, number, number, number[]][];
  /** [vni, mac, vtep, packets, IPv4s] in the order first seen. */
  fdb: [number, number, number, number, number[]][];
  /** [vni, protocol, a, aPort, b, bPort, packets, bytes, first s, first ns, last s, last ns] in the order first seen. */
  conversations: [number | null, number, number, number, number, number, number, number, number, number, number, number][];
  /** [vni, opcode, sender IPv4, sender MAC, target IPv4, packets] in the order first seen. */
  arp: [number | null, number, number, number, number, number][];
  /** [vni, mac, IPv4] of ARP senders without an FDB entry yet (see CaptureSummary.pendingArp). */
  pendingArp: [number, number, number][];
  oversize: OversizeFrame[];
  oversizeCount: number;
}

export interface SummaryOptions {
  /** Overlay MTU: inner IPv4 packets longer than this are listed. */
  mtu?: number;
  /** Count bad transport checksums as malformed (off: they are usually offload). */
  strictChecksums?: boolean;
}

export class CaptureSummary {
  packets = 0;
  bytes = 0;
  vxlanPackets = 0;
  malformed = 0;
  truncated = 0;
  /** Bad IPv4 header and ICMP checksums: real damage. */
  badHeaderChecksums = 0;
  /** Bad UDP and TCP checksums: usually offload, see health.ts. */
  badTransportChecksums = 0;
  readonly vnis = new Map<number, VniCount>();
  // The per-packet lookups use open-addressing tables of our own (table.ts) keyed by the numbers
  // themselves: a string key per packet was once a quarter of a summary pass, and nested Maps
  // with keys above 2^30 (heap numbers) still half of it (--cpu-prof on the bench capture).
  private readonly tunnelTable = new Table<TunnelEntry>();
  private readonly fdbTable = new Table<FdbRecord>();
  private readonly conversationTable = new Table<ConversationRecord>();
  private readonly arpTable = new Table<ArpRecord>();
  /** The VNI count of the previous VXLAN packet: most packets repeat it. */
  private lastVni: VniCount | undefined = undefined;
  readonly oversize: OversizeFrame[] = [];
  oversizeCount = 0;
  private readonly strictOptions: { strictChecksums?: boolean };
  /**
   * With `trackPendingArp` (a summary of the second part of a capture, see parallel.ts): ARP
   * senders whose MAC had no FDB entry yet, as (VNI, MAC, IPv4). The whole capture's summary
   * adds the IPv4 where the first part made the entry.
   */
  private readonly pendingArp: [number, number, number][] | undefined;

  constructor(
    private readonly options: SummaryOptions = {},
    trackPendingArp = false,
  ) {
    this.strictOptions = { strictChecksums: options.strictChecksums === true };
    this.pendingArp = trackPendingArp ? [] : undefined;
  }

  /** Everything this summary holds, as plain data (structured-clone safe) for merge(). */
  state(): SummaryState {
    return {
      counts: [this.packets, this.bytes, this.vxlanPackets, this.malformed, this.truncated, this.badHeaderChecksums, this.badTransportChecksums],
      vnis: [...this.vnis.values()].map((v) => [v.vni, v.packets, v.bytes]),
      tunnels: this.tunnelTable.entries.map((t) => [t.outerSrc, t.outerDst, t.udpPort, t.packets, t.bytes, [...t.vnis]]),
      fdb: this.fdbTable.entries.map((e) => [e.vni, e.mac, e.vtep, e.packets, [...e.ips]]),
      conversations: this.conversationTable.entries.map((c) => [
        c.vni, c.protocol, c.a, c.aPort, c.b, c.bPort, c.packets, c.bytes, c.firstSeconds, c.firstNanos, c.lastSeconds, c.lastNanos,
      ]),
      arp: this.arpTable.entries.map((a) => [a.vni, a.opcode, a.senderIp, a.senderMac, a.targetIp, a.packets]),
      pendingArp: this.pendingArp ?? [],
      oversize: this.oversize.map((o) => ({ ...o })),
      oversizeCount: this.oversizeCount,
    };
  }

  /**
   * Adds the summary of the packets that follow this summary's (made with trackPendingArp):
   * the result is what one summary of all of them would hold, byte for byte once printed.
   * `frameOffset` is the number of frames before the later part (its frame numbers start at 1).
   */
  merge(later: SummaryState, frameOffset: number): void {
    const [packets, bytes, vxlanPackets, malformed, truncated, badHeader, badTransport] = later.counts;
    this.packets += packets!;
    this.bytes += bytes!;
    this.vxlanPackets += vxlanPackets!;
    this.malformed += malformed!;
    this.truncated += truncated!;
    this.badHeaderChecksums += badHeader!;
    this.badTransportChecksums += badTransport!;
    for (const [vni, vniPackets, vniBytes] of later.vnis) {
      const known = this.vnis.get(vni);
      if (known === undefined) this.vnis.set(vni, { vni, packets: vniPackets, bytes: vniBytes });
      else {
        known.packets += vniPackets;
        known.bytes += vniBytes;
      }
    }
    for (const [src, dst, port, tunnelPackets, tunnelBytes, vnis] of later.tunnels) {
      const tunnel = this.tunnel(src, dst, port);
      tunnel.packets += tunnelPackets;
      tunnel.bytes += tunnelBytes;
      for (const vni of vnis) tunnel.vnis.add(vni);
    }
    // ARP answers of the later part whose MAC the earlier part had seen (before the later FDB
    // entries are added: at that point in a single pass, only the earlier ones existed).
    for (const [vni, mac, ip] of later.pendingArp) this.fdbEntry(vni, mac, false, 0)?.ips.add(ip);
    for (const [vni, mac, vtep, fdbPackets, ips] of later.fdb) {
      const entry = this.fdbEntry(vni, mac, true, vtep)!;
      entry.vtep = vtep; // the later sighting wins, as in one pass
      entry.packets += fdbPackets;
      for (const ip of ips) entry.ips.add(ip);
    }
    for (const [vni, proto, a, aPort, b, bPort, cPackets, cBytes, firstSeconds, firstNanos, lastSeconds, lastNanos] of later.conversations) {
      const c = this.conversation(vni, proto, a, aPort, b, bPort, firstSeconds, firstNanos);
      c.packets += cPackets;
      c.bytes += cBytes;
      if (firstSeconds < c.firstSeconds || (firstSeconds === c.firstSeconds && firstNanos < c.firstNanos)) {
        c.firstSeconds = firstSeconds;
        c.firstNanos = firstNanos;
      }
      if (lastSeconds > c.lastSeconds || (lastSeconds === c.lastSeconds && lastNanos > c.lastNanos)) {
        c.lastSeconds = lastSeconds;
        c.lastNanos = lastNanos;
      }
    }
    for (const [vni, opcode, senderIp, senderMac, targetIp, arpPackets] of later.arp) {
      const exchange = this.arpExchange(vni, opcode, senderIp, senderMac, targetIp);
      // A new exchange starts at 1 packet: it had arpPackets in the later part.
      exchange.packets += this.arpJustMade ? arpPackets - 1 : arpPackets;
    }
    this.oversizeCount += later.oversizeCount;
    for (const o of later.oversize) {
      if (this.oversize.length >= 20) break;
      this.oversize.push({ ...o, frame: o.frame + frameOffset });
    }
  }

  add(packet: Packet, file: string): void {
    const length = packet.frame.originalLength;
    this.packets += 1;
    this.bytes += length;
    if (isMalformed(packet, this.strictOptions)) this.malformed += 1;
    if (isTruncated(packet)) this.truncated += 1;
    this.badHeaderChecksums += packet.badHeaderChecksums;
    this.badTransportChecksums += packet.badTransportChecksums;
    const vxlan = packet.vxlan;
    const vni = vxlan === undefined ? null : vxlan.vni;
    if (vxlan !== undefined) this.addTunnelled(packet, vxlan.vni, length);
    this.addConversation(packet, vni, length);
    this.addArp(packet, vni);
    if (this.options.mtu !== undefined) this.checkMtu(packet, vni, file, this.options.mtu);
  }

  get tunnels(): Tunnel[] {
    return this.tunnelTable.entries.slice();
  }

  get fdb(): FdbEntry[] {
    return this.fdbTable.entries.slice();
  }

  /**
   * In the order of an earlier version, which kept buckets of conversations by a 32-bit hash in
   * a Map: by bucket in the order the buckets were made, then by creation. The text and JSON
   * sort by VNI and first time, keeping this order for ties.
   */
  get conversations(): Conversation[] {
    const buckets = new Map<number, Conversation[]>();
    for (const c of this.conversationTable.entries) {
      const bucket = buckets.get(c.hash);
      if (bucket === undefined) buckets.set(c.hash, [c]);
      else bucket.push(c);
    }
    return [...buckets.values()].flat();
  }

  /** ARP exchanges by (VNI, opcode, sender IPv4 and MAC, target IPv4), in the order first seen. */
  get arp(): ReadonlyMap<string, ArpExchange> {
    const map = new Map<string, ArpExchange>();
    for (const a of this.arpTable.entries) map.set(`${a.vni}|${a.opcode}|${a.senderIp}|${a.senderMac}|${a.targetIp}`, a);
    return map;
  }

  private addTunnelled(packet: Packet, vni: number, length: number): void {
    this.vxlanPackets += 1;
    let perVni = this.lastVni;
    if (perVni === undefined || perVni.vni !== vni) {
      perVni = this.vnis.get(vni);
      if (perVni === undefined) {
        perVni = { vni, packets: 0, bytes: 0 };
        this.vnis.set(vni, perVni);
      }
      this.lastVni = perVni;
    }
    perVni.packets += 1;
    perVni.bytes += length;
    const outer = packet.outerIpv4;
    const udp = packet.outerUdp;
    if (outer === undefined || udp === undefined) return;
    const src = outer.src;
    const tunnel = this.tunnel(src, outer.dst, udp.dstPort);
    if (tunnel.lastVni !== vni) {
      tunnel.vnis.add(vni);
      tunnel.lastVni = vni;
    }
    tunnel.packets += 1;
    tunnel.bytes += length;

    // The inner source MAC arrived from this VTEP: a learning VTEP would put it in its FDB.
    const innerEth = firstInnerEth(packet);
    if (innerEth === undefined) return;
    const mac = innerEth.src;
    const entry = this.fdbEntry(vni, mac, true, src)!;
    entry.vtep = src;
    entry.packets += 1;
  }

  /** The tunnel (src, dst, port), made on first use. */
  private tunnel(src: number, dst: number, port: number): TunnelEntry {
    const tunnels = this.tunnelTable;
    const hash = mix3(src, dst, port);
    for (let i = tunnels.first(hash); i >= 0; i = tunnels.next(i)) {
      const t = tunnels.entries[i]!;
      if (t.outerSrc === src && t.outerDst === dst && t.udpPort === port) return t;
    }
    const tunnel = new TunnelEntry(src, dst, port);
    tunnels.insert(hash, tunnel);
    return tunnel;
  }

  /** The FDB entry of (vni, mac); made (behind `vtep`) when `create` is set and there is none. */
  private fdbEntry(vni: number, mac: number, create: boolean, vtep: number): FdbRecord | undefined {
    const table = this.fdbTable;
    // The top 16 and the low 32 bits (`| 0` truncates modulo 2^32 without a division).
    const hash = mix3(vni, (mac / 0x1_0000_0000) | 0, mac | 0);
    for (let i = table.first(hash); i >= 0; i = table.next(i)) {
      const e = table.entries[i]!;
      if (e.mac === mac && e.vni === vni) return e;
    }
    if (!create) return undefined;
    const entry = new FdbRecord(vni, mac, vtep);
    table.insert(hash, entry);
    return entry;
  }

  private addConversation(packet: Packet, vni: number | null, length: number): void {
    const ip = packet.innerIpv4;
    if (ip === undefined) return;
    const transport = packet.transport;
    let srcPort = 0;
    let dstPort = 0;
    if (transport !== undefined && transport.protocol !== 'icmp') {
      srcPort = transport.srcPort;
      dstPort = transport.dstPort;
    }
    const frame = packet.frame;
    const seconds = frameSeconds(frame);
    const nanos = frameNanosecondOfSecond(frame);
    const conversation = this.conversation(vni, ip.proto, ip.src, srcPort, ip.dst, dstPort, seconds, nanos);
    if (seconds > conversation.lastSeconds || (seconds === conversation.lastSeconds && nanos > conversation.lastNanos)) {
      conversation.lastSeconds = seconds;
      conversation.lastNanos = nanos;
    } else if (seconds < conversation.firstSeconds || (seconds === conversation.firstSeconds && nanos < conversation.firstNanos)) {
      conversation.firstSeconds = seconds;
      conversation.firstNanos = nanos;
    }
    conversation.packets += 1;
    conversation.bytes += length;
  }

  /** The conversation of this 5-tuple (either direction) in `vni`; made, first seen now, if new. */
  private conversation(
    vni: number | null,
    proto: number,
    src: number,
    srcPort: number,
    dst: number,
    dstPort: number,
    seconds: number,
    nanos: number,
  ): ConversationRecord {
    const hash = conversationHash(vni, proto, src, srcPort, dst, dstPort);
    const table = this.conversationTable;
    for (let i = table.first(hash); i >= 0; i = table.next(i)) {
      const c = table.entries[i]!;
      if (c.hash !== hash || c.vni !== vni || c.protocol !== proto) continue;
      if (
        (c.a === src && c.aPort === srcPort && c.b === dst && c.bPort === dstPort) ||
        (c.a === dst && c.aPort === dstPort && c.b === src && c.bPort === srcPort)
      ) {
        return c;
      }
    }
    const conversation = new ConversationRecord(hash, vni, proto, src, srcPort, dst, dstPort, seconds, nanos);
    table.insert(hash, conversation);
    return conversation;
  }

  /** Set by arpExchange(): the exchange it returned was made by that call (packets = 1). */
  private arpJustMade = false;

  /** The ARP exchange of these values; made with one packet if new (see arpJustMade). */
  private arpExchange(vni: number | null, opcode: number, senderIp: number, senderMac: number, targetIp: number): ArpRecord {
    const hash = mix3(mix3(vni ?? -1, opcode, senderIp), ((senderMac / 0x1_0000_0000) | 0) ^ (senderMac | 0), targetIp);
    const table = this.arpTable;
    for (let i = table.first(hash); i >= 0; i = table.next(i)) {
      const a = table.entries[i]!;
      if (a.vni === vni && a.opcode === opcode && a.senderIp === senderIp && a.senderMac === senderMac && a.targetIp === targetIp) {
        this.arpJustMade = false;
        return a;
      }
    }
    const made = new ArpRecord(vni, opcode, senderIp, senderMac, targetIp);
    table.insert(hash, made);
    this.arpJustMade = true;
    return made;
  }

  private addArp(packet: Packet, vni: number | null): void {
    // ARP ends a frame's decoding: if the packet has an ARP layer (never quoted), it is the last.
    const layers = packet.layers;
    const arp = layers[layers.length - 1];
    if (!(arp instanceof ArpLayer)) return;
    const { senderIp, senderMac } = arp;
    const exchange = this.arpExchange(vni, arp.opcode, senderIp, senderMac, arp.targetIp);
    if (!this.arpJustMade) exchange.packets += 1;
    if (vni === null) return;
    const entry = this.fdbEntry(vni, senderMac, false, 0);
    if (entry !== undefined) entry.ips.add(senderIp);
    else this.pendingArp?.push([vni, senderMac, senderIp]);
  }

  private checkMtu(packet: Packet, vni: number | null, file: string, mtu: number): void {
    const ip = packet.innerIpv4;
    if (ip === undefined || ip.totalLength <= mtu) return;
    this.oversizeCount += 1;
    // Keep the first few as examples; the count says how many there were.
    if (this.oversize.length < 20) {
      this.oversize.push({ file, frame: packet.frame.index, vni, innerLength: ip.totalLength });
    }
  }
}

/** packet.first('eth', 1) without walking the layers in the usual case (one tunnel). */
function firstInnerEth(packet: Packet): EthLayer | undefined {
  // With one VXLAN header the only Ethernet header at depth 1 is the innermost one.
  if (packet.tunnelDepth === 1) return packet.innerEth;
  return packet.first('eth', 1);
}

class TunnelEntry implements Tunnel {
  readonly vnis = new Set<number>();
  packets = 0;
  bytes = 0;
  /** The VNI added last, to skip the Set for repeats. */
  lastVni = -1;
  constructor(
    readonly outerSrc: number,
    readonly outerDst: number,
    readonly udpPort: number,
  ) {}
}

class FdbRecord implements FdbEntry {
  readonly ips = new Set<number>();
  packets = 0;
  constructor(
    readonly vni: number,
    readonly mac: number,
    public vtep: number,
  ) {}
}

class ArpRecord implements ArpExchange {
  packets = 1;
  constructor(
    readonly vni: number | null,
    readonly opcode: number,
    readonly senderIp: number,
    readonly senderMac: number,
    readonly targetIp: number,
  ) {}
}

/** A conversation with its times kept as numbers (whole seconds, nanoseconds of the second). */
class ConversationRecord implements Conversation {
  packets = 0;
  bytes = 0;
  lastSeconds: number;
  lastNanos: number;
  constructor(
    readonly hash: number,
    readonly vni: number | null,
    readonly protocol: number,
    readonly a: number,
    readonly aPort: number,
    readonly b: number,
    readonly bPort: number,
    public firstSeconds: number,
    public firstNanos: number,
  ) {
    this.lastSeconds = firstSeconds;
    this.lastNanos = firstNanos;
  }

  get firstNs(): bigint {
    return BigInt(this.firstSeconds) * 1_000_000_000n + BigInt(this.firstNanos);
  }

  get lastNs(): bigint {
    return BigInt(this.lastSeconds) * 1_000_000_000n + BigInt(this.lastNanos);
  }
}

/**
 * Entries in the order made, found through an open-addressing index of 32-bit hashes: the
 * caller walks the candidates of a hash (first / next) and compares its own fields.
 */
class Table<T> {
  readonly entries: T[] = [];
  /** Entry index + 1 per slot, 0 for empty; kept at most half full. */
  private slots = new Int32Array(1024);
  /** The hash of each entry, to rehash and to skip other hashes' entries while probing. */
  private hashes = new Int32Array(512);
  private mask = 1023;
  private probeHash = 0;
  private probeSlot = 0;

  /** Index of the first entry whose hash may be `hash`, or -1. */
  first(hash: number): number {
    this.probeHash = hash | 0;
    this.probeSlot = (hash & this.mask) - 1;
    return this.next(-1);
  }

  /** Index of the next candidate after `_previous` for the hash given to first(), or -1. */
  next(_previous: number): number {
    const slots = this.slots;
    const mask = this.mask;
    const wanted = this.probeHash;
    for (let slot = (this.probeSlot + 1) & mask; ; slot = (slot + 1) & mask) {
      const index = slots[slot]! - 1;
      if (index < 0) {
        this.probeSlot = slot;
        return -1;
      }
      if (this.hashes[index] === wanted) {
        this.probeSlot = slot;
        return index;
      }
    }
  }

  insert(hash: number, entry: T): void {
    const index = this.entries.length;
    this.entries.push(entry);
    if (index >= this.hashes.length) {
      const grown = new Int32Array(this.hashes.length * 2);
      grown.set(this.hashes);
      this.hashes = grown;
    }
    this.hashes[index] = hash | 0;
    if ((index + 1) * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    else this.place(index);
  }

  private place(index: number): void {
    const mask = this.mask;
    let slot = this.hashes[index]! & mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
    this.slots[slot] = index + 1;
  }

  private rehash(size: number): void {
    this.slots = new Int32Array(size);
    this.mask = size - 1;
    for (let i = 0; i < this.entries.length; i++) this.place(i);
  }
}

/** A 32-bit hash of three numbers (each taken modulo 2^32). */
function mix3(a: number, b: number, c: number): number {
  let h = Math.imul(a ^ 0x2545f491, 0x9e3779b1);
  h = Math.imul(h ^ b ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ c ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * A 32-bit hash of a conversation that is the same in both directions: the two endpoints are
 * put in a fixed order first. Collisions are fine; the lookup compares the real fields.
 */
function conversationHash(vni: number | null, protocol: number, src: number, srcPort: number, dst: number, dstPort: number): number {
  const srcFirst = src < dst || (src === dst && srcPort <= dstPort);
  let h = Math.imul((vni ?? 0x1000000) ^ (protocol << 24), 0x9e3779b1);
  h = Math.imul(h ^ (srcFirst ? src : dst), 0x85ebca6b);
  h = Math.imul(h ^ (srcFirst ? srcPort : dstPort), 0xc2b2ae35);
  h = Math.imul(h ^ (srcFirst ? dst : src), 0x27d4eb2f);
  h = Math.imul(h ^ (srcFirst ? dstPort : srcPort), 0x165667b1);
  return (h ^ (h >>> 16)) >>> 0;
}
