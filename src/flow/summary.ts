import { type Packet, packetHealth } from '../dissect/index.js';

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
  // Keyed by numbers, not strings: building a string key per packet was the largest cost of a
  // summary pass (about a quarter of it, measured with --cpu-prof on the bench capture).
  /** outer src → (outer dst · 2^16 + UDP port) → tunnel. */
  private readonly tunnelIndex = new Map<number, Map<number, Tunnel>>();
  /** VNI → inner MAC (48 bits, exact in a double) → entry. */
  private readonly fdbIndex = new Map<number, Map<number, FdbEntry>>();
  /** Hash of the direction-free 5-tuple and VNI → the conversations with that hash. */
  private readonly conversationIndex = new Map<number, Conversation[]>();
  readonly arp = new Map<string, ArpExchange>();
  readonly oversize: OversizeFrame[] = [];
  oversizeCount = 0;

  constructor(private readonly options: SummaryOptions = {}) {}

  add(packet: Packet, file: string): void {
    const length = packet.frame.originalLength;
    this.packets += 1;
    this.bytes += length;
    this.countHealth(packet);
    const vxlan = packet.vxlan;
    const vni = vxlan === undefined ? null : vxlan.vni;
    if (vxlan !== undefined) this.addTunnelled(packet, vxlan.vni, length);
    this.addConversation(packet, vni, length);
    this.addArp(packet, vni);
    this.checkMtu(packet, vni, file);
  }

  get tunnels(): Tunnel[] {
    return [...this.tunnelIndex.values()].flatMap((byDestination) => [...byDestination.values()]);
  }

  get fdb(): FdbEntry[] {
    return [...this.fdbIndex.values()].flatMap((byMac) => [...byMac.values()]);
  }

  get conversations(): Conversation[] {
    return [...this.conversationIndex.values()].flat();
  }

  private countHealth(packet: Packet): void {
    const { malformed, truncated, bad } = packetHealth(packet, { strictChecksums: this.options.strictChecksums });
    if (malformed) this.malformed += 1;
    if (truncated) this.truncated += 1;
    this.badHeaderChecksums += bad.header;
    this.badTransportChecksums += bad.transport;
  }

  private addTunnelled(packet: Packet, vni: number, length: number): void {
    this.vxlanPackets += 1;
    const perVni = this.vnis.get(vni);
    if (perVni === undefined) this.vnis.set(vni, { vni, packets: 1, bytes: length });
    else {
      perVni.packets += 1;
      perVni.bytes += length;
    }
    const outer = packet.outerIpv4;
    const udp = packet.outerUdp;
    if (outer === undefined || udp === undefined) return;
    const bySource = mapIn(this.tunnelIndex, outer.src);
    const tunnelKey = outer.dst * 65536 + udp.dstPort;
    let tunnel = bySource.get(tunnelKey);
    if (tunnel === undefined) {
      tunnel = { outerSrc: outer.src, outerDst: outer.dst, udpPort: udp.dstPort, vnis: new Set(), packets: 0, bytes: 0 };
      bySource.set(tunnelKey, tunnel);
    }
    tunnel.vnis.add(vni);
    tunnel.packets += 1;
    tunnel.bytes += length;

    // The inner source MAC arrived from this VTEP: a learning VTEP would put it in its FDB.
    const innerEth = packet.first('eth', 1);
    if (innerEth === undefined) return;
    const byMac = mapIn(this.fdbIndex, vni);
    let entry = byMac.get(innerEth.src);
    if (entry === undefined) {
      entry = { vni, mac: innerEth.src, vtep: outer.src, ips: new Set(), packets: 0 };
      byMac.set(innerEth.src, entry);
    }
    entry.vtep = outer.src;
    entry.packets += 1;
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
    const hash = conversationHash(vni, ip.proto, ip.src, srcPort, ip.dst, dstPort);
    let bucket = this.conversationIndex.get(hash);
    if (bucket === undefined) {
      bucket = [];
      this.conversationIndex.set(hash, bucket);
    }
    let conversation: Conversation | undefined;
    for (const candidate of bucket) {
      if (candidate.vni !== vni || candidate.protocol !== ip.proto) continue;
      const forward = candidate.a === ip.src && candidate.aPort === srcPort && candidate.b === ip.dst && candidate.bPort === dstPort;
      const reverse = candidate.a === ip.dst && candidate.aPort === dstPort && candidate.b === ip.src && candidate.bPort === srcPort;
      if (forward || reverse) {
        conversation = candidate;
        break;
      }
    }
    const now = packet.frame.timestampNs;
    if (conversation === undefined) {
      conversation = {
        vni,
        protocol: ip.proto,
        a: ip.src,
        aPort: srcPort,
        b: ip.dst,
        bPort: dstPort,
        packets: 0,
        bytes: 0,
        firstNs: now,
        lastNs: now,
      };
      bucket.push(conversation);
    }
    conversation.packets += 1;
    conversation.bytes += length;
    if (now < conversation.firstNs) conversation.firstNs = now;
    if (now > conversation.lastNs) conversation.lastNs = now;
  }

  private addArp(packet: Packet, vni: number | null): void {
    const arp = packet.last('arp');
    if (arp === undefined) return;
    const key = `${vni}|${arp.opcode}|${arp.senderIp}|${arp.senderMac}|${arp.targetIp}`;
    const known = this.arp.get(key);
    if (known !== undefined) known.packets += 1;
    else {
      this.arp.set(key, {
        vni,
        opcode: arp.opcode,
        senderIp: arp.senderIp,
        senderMac: arp.senderMac,
        targetIp: arp.targetIp,
        packets: 1,
      });
    }
    if (vni !== null) this.fdbIndex.get(vni)?.get(arp.senderMac)?.ips.add(arp.senderIp);
  }

  private checkMtu(packet: Packet, vni: number | null, file: string): void {
    const mtu = this.options.mtu;
    if (mtu === undefined) return;
    const ip = packet.innerIpv4;
    if (ip === undefined || ip.totalLength <= mtu) return;
    this.oversizeCount += 1;
    // Keep the first few as examples; the count says how many there were.
    if (this.oversize.length < 20) {
      this.oversize.push({ file, frame: packet.frame.index, vni, innerLength: ip.totalLength });
    }
  }
}

/** The inner map for `key`, created on first use. */
function mapIn<K, V>(outer: Map<K, Map<number, V>>, key: K): Map<number, V> {
  let inner = outer.get(key);
  if (inner === undefined) {
    inner = new Map();
    outer.set(key, inner);
  }
  return inner;
}

/**
 * A 32-bit hash of a conversation that is the same in both directions: the two endpoints are
 * put in a fixed order first. Collisions are fine; the bucket compares the real fields.
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
