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
  readonly tunnels = new Map<string, Tunnel>();
  readonly conversations = new Map<string, Conversation>();
  readonly fdb = new Map<string, FdbEntry>();
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
    const tunnelKey = `${outer.src}>${outer.dst}:${udp.dstPort}`;
    let tunnel = this.tunnels.get(tunnelKey);
    if (tunnel === undefined) {
      tunnel = { outerSrc: outer.src, outerDst: outer.dst, udpPort: udp.dstPort, vnis: new Set(), packets: 0, bytes: 0 };
      this.tunnels.set(tunnelKey, tunnel);
    }
    tunnel.vnis.add(vni);
    tunnel.packets += 1;
    tunnel.bytes += length;

    // The inner source MAC arrived from this VTEP: a learning VTEP would put it in its FDB.
    const innerEth = packet.first('eth', 1);
    if (innerEth === undefined) return;
    const fdbKey = `${vni}/${innerEth.src}`;
    let entry = this.fdb.get(fdbKey);
    if (entry === undefined) {
      entry = { vni, mac: innerEth.src, vtep: outer.src, ips: new Set(), packets: 0 };
      this.fdb.set(fdbKey, entry);
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
    const forward = `${vni}|${ip.proto}|${ip.src}:${srcPort}|${ip.dst}:${dstPort}`;
    let conversation = this.conversations.get(forward);
    if (conversation === undefined) {
      const reverse = `${vni}|${ip.proto}|${ip.dst}:${dstPort}|${ip.src}:${srcPort}`;
      conversation = this.conversations.get(reverse);
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
      this.conversations.set(forward, conversation);
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
    if (vni !== null) this.fdb.get(`${vni}/${arp.senderMac}`)?.ips.add(arp.senderIp);
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
