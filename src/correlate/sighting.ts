import { LinkType } from '../capture/linktypes.js';
import { isFragmentationNeeded, isIcmpErrorType, type Packet } from '../dissect/index.js';
import type { SllLayer } from '../dissect/sll.js';
import type { Layer } from '../dissect/layers.js';
import type { Ipv4Layer } from '../dissect/ipv4.js';
import { type Ieee8021adLayer, isTagType, type VlanLayer } from '../dissect/vlan.js';
import { IdentityHash } from './identity-hash.js';
import { mixIcmp, mixIpv4Header, mixTcp, mixUdp } from './ipv4-identity.js';
import { SlotBlocks } from './slot-blocks.js';

/** What a sighting's innermost payload is. */
export const Kind = {
  Ipv4: 0,
  Arp: 1,
  /** Anything else (IPv6, LLDP, ...): identified by its bytes, not by fields. */
  Other: 2,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

/** Payload bytes that go into a packet's payload hash: enough to tell segments apart, cheap to hash. */
const PAYLOAD_BYTES_HASHED = 64;
/** A column before the first resize. */
const NO_COLUMN = new Float64Array(0);
/** "No such header" for the numeric fields below. */
export const NONE = -1;
/**
 * "There is such a header, but the capture did not record this field": the destination MAC of a
 * Linux cooked capture (tcpdump -i any), which keeps only the source. Never a change.
 */
export const UNRECORDED = -2;
/** An Ethernet header's length, which a cooked capture's own header stands in for. */
const ETHERNET_HEADER = 14;

/**
 * The fields of a sighting: one packet seen at one capture point, reduced to the numbers
 * correlation needs. MACs are 48-bit and IPv4 addresses 32-bit integers, turned into text only
 * when printed; NONE where the header is absent.
 */
const FIELD_NAMES = [
  /** Index of the capture point. */
  'point',
  /** Frame number in its capture file (1-based, as Wireshark counts). */
  'frame',
  /** Capture time in ns since the trace's base time, as the capture recorded it. */
  'timeNs',
  /** timeNs with the point's clock offset removed: comparable across nodes. */
  'correctedNs',
  /**
   * The frame's length on the wire. In a Linux cooked capture, as if its header were the
   * Ethernet header it replaced, so that lengths compare between the two kinds of capture.
   */
  'length',
  /** What survives every hop (see SightingStore.add). */
  'identity',
  /**
   * A hash of the first payload bytes of an IPv4 packet (see addIpv4), NONE where the capture
   * cut the frame before them (a snap length): what tells apart packets whose headers agree.
   * For an ICMP error, whose payload is the quoted packet: that packet's identity (see
   * quotedIdentityAt), or NONE where the quote is too short to tell.
   */
  'payloadHash',
  'kind',
  /** Outermost VXLAN header and the underlay around it. */
  'vni',
  'outerEthSrc',
  'outerEthDst',
  /** The VLAN ID of the underlay's first (outermost) 802.1Q or 802.1ad tag; NONE untagged. */
  'outerVlan',
  'outerIpSrc',
  'outerIpDst',
  'outerTtl',
  'outerSrcPort',
  'outerDstPort',
  /** The innermost Ethernet header (a cooked capture's: the source MAC, ethDst UNRECORDED). */
  'ethSrc',
  'ethDst',
  /** The VLAN ID of the innermost frame's first (outermost) tag; NONE untagged. */
  'vlan',
  /** What the frame carries: the EtherType after its VLAN tags, if any. */
  'etherType',
  /** The innermost IPv4 header (for ARP: sender and target protocol addresses). */
  'ipSrc',
  'ipDst',
  'ipId',
  'ttl',
  'proto',
  /** TCP/UDP ports, or for ICMP the echo identifier in srcPort. */
  'srcPort',
  'dstPort',
  /** ICMP type and code, TCP flags, ARP opcode: what the one-line description shows. */
  'typeOrFlags',
  'code',
  /**
   * TCP sequence and acknowledgement numbers; ICMP bytes 6-7: the echo sequence number, or the
   * next-hop MTU of "fragmentation needed" (RFC 1191), which takes the same place.
   */
  'seq',
  'ack',
  'payloadLength',
  /** 1 for an IPv4 fragment (more follow, or not the first): the original was split. */
  'fragment',
] as const;

export type SightingField = (typeof FIELD_NAMES)[number];

/** A sighting copied out of the store: a plain record for reports and tests. */
export type Sighting = { readonly [K in SightingField]: number };

/**
 * Every sighting in flight, one column (Float64Array) per field, addressed by slot number.
 *
 * Millions of packets pass through a trace, each seen at several points, and each sighting lives
 * until its journey is decided, a fraction of a second of capture time later. As JavaScript
 * objects they would be too many to collect cheaply (and every MAC, address or time above 2^30
 * would be a separate heap number). Columns of doubles hold them without allocating; a slot is
 * reused once its journey is done, so the columns grow to the most sightings ever in flight
 * (the matching window's worth), not to the size of the captures.
 */
export class SightingStore {
  /** Bytes of shared memory a store of `capacity` slots needs (see inSharedMemory). */
  static sharedBytes(capacity: number): number {
    return FIELD_NAMES.length * capacity * Float64Array.BYTES_PER_ELEMENT;
  }

  /**
   * A store whose columns lie in shared memory from `byteOffset` on, for a decoding thread to
   * fill and the main thread to copy from (trace's decode worker). Its slots are managed by the
   * caller (addAt), and it never grows.
   */
  static inSharedMemory(buffer: SharedArrayBuffer, byteOffset: number, capacity: number): SightingStore {
    return new SightingStore(capacity, { buffer, byteOffset });
  }

  private readonly columns = new Map<SightingField, Float64Array>();
  /** The same columns as a list, for the loops that touch every field. */
  private columnList: Float64Array[] = [];
  /** Who hands out the slots; none for a store in shared memory. */
  private readonly slots: SlotBlocks | undefined;

  // Plain fields, defined in the constructor in this order: V8 keeps the object's properties
  // fast. Added one by one through setColumn's keyed store instead, more than a dozen of them
  // turned the store into a dictionary, and every column read into a hash lookup.
  point = NO_COLUMN;
  frame = NO_COLUMN;
  timeNs = NO_COLUMN;
  correctedNs = NO_COLUMN;
  length = NO_COLUMN;
  identity = NO_COLUMN;
  payloadHash = NO_COLUMN;
  kind = NO_COLUMN;
  vni = NO_COLUMN;
  outerEthSrc = NO_COLUMN;
  outerEthDst = NO_COLUMN;
  outerVlan = NO_COLUMN;
  outerIpSrc = NO_COLUMN;
  outerIpDst = NO_COLUMN;
  outerTtl = NO_COLUMN;
  outerSrcPort = NO_COLUMN;
  outerDstPort = NO_COLUMN;
  ethSrc = NO_COLUMN;
  ethDst = NO_COLUMN;
  vlan = NO_COLUMN;
  etherType = NO_COLUMN;
  ipSrc = NO_COLUMN;
  ipDst = NO_COLUMN;
  ipId = NO_COLUMN;
  ttl = NO_COLUMN;
  proto = NO_COLUMN;
  srcPort = NO_COLUMN;
  dstPort = NO_COLUMN;
  typeOrFlags = NO_COLUMN;
  code = NO_COLUMN;
  seq = NO_COLUMN;
  ack = NO_COLUMN;
  payloadLength = NO_COLUMN;
  fragment = NO_COLUMN;

  constructor(initialCapacity = 4096, shared?: { buffer: SharedArrayBuffer; byteOffset: number }) {
    if (shared === undefined) {
      this.slots = new SlotBlocks(initialCapacity, (capacity) => this.resize(capacity));
      return;
    }
    const bytesPerColumn = initialCapacity * Float64Array.BYTES_PER_ELEMENT;
    FIELD_NAMES.forEach((name, i) => this.setColumn(name, new Float64Array(shared.buffer, shared.byteOffset + i * bytesPerColumn, initialCapacity)));
  }

  /** Changes whenever the columns are replaced (the store grew): cached columns go stale. */
  generation = 0;

  /** Slots holding a sighting now. */
  get inUse(): number {
    return this.slots?.inUse ?? 0;
  }

  /** A free slot, every field NONE. */
  allocate(): number {
    const slot = this.take();
    const columns = this.columnList;
    for (let i = 0; i < columns.length; i++) columns[i]![slot] = NONE;
    return slot;
  }

  /** A free slot as it was left, for a caller that writes every field itself (add(), SightingDecoder). */
  take(): number {
    return this.ownSlots.take();
  }

  release(slot: number): void {
    this.ownSlots.release(slot);
  }

  /** How many sightings copyRunFrom may copy next (consecutive slots: 1 or more). */
  runRoom(): number {
    return this.ownSlots.room();
  }

  /**
   * Copies `count` sightings (count <= runRoom()) from `other`'s slots `from`... into as many
   * consecutive new slots, a column at a time; returns the first of them.
   */
  copyRunFrom(other: SightingStore, from: number, count: number): number {
    const at = this.ownSlots.take(count);
    const columns = this.columnList;
    const source = other.columnList;
    for (let i = 0; i < columns.length; i++) columns[i]!.set(source[i]!.subarray(from, from + count), at);
    return at;
  }

  /** Copies the sighting in `slot` into `target`'s slot `targetSlot` (trace's JSON writer thread: trace-json-thread.ts). */
  copySlotTo(target: SightingStore, targetSlot: number, slot: number): void {
    const columns = this.columnList;
    const into = target.columnList;
    for (let i = 0; i < columns.length; i++) into[i]![targetSlot] = columns[i]![slot]!;
  }

  private get ownSlots(): SlotBlocks {
    if (this.slots === undefined) throw new Error('the slots of a sighting store in shared memory are its filler\'s to choose');
    return this.slots;
  }

  /** A copy of the slot's fields, for whoever keeps it beyond the journey. */
  snapshot(slot: number): Sighting {
    const record: Record<string, number> = {};
    for (const [name, column] of this.columns) record[name] = column[slot]!;
    return record as Sighting;
  }

  /**
   * Copies what correlation needs out of a decoded packet into a new slot. Returns NONE for a
   * frame with nothing to identify it by (no complete Ethernet or Linux cooked header).
   */
  add(packet: Packet, point: number, timeNs: number): number {
    const at = this.take();
    if (this.addAt(at, packet, point, timeNs)) return at;
    this.release(at);
    return NONE;
  }

  /**
   * add() into a slot the caller chose (a ring of slots in shared memory). Returns false, writing
   * nothing, for a frame with nothing to identify it by.
   */
  addAt(at: number, packet: Packet, point: number, timeNs: number): boolean {
    const eth = packet.innerEth;
    // tcpdump -i any writes a Linux cooked header instead of the Ethernet one: the source MAC
    // and EtherType are there, the destination MAC is not.
    const cooked = cookedHeader(packet);
    if (eth === undefined && (cooked === undefined || packet.tunnelDepth > 0)) return false;
    // Every field is written once below: the value, or NONE where the header is absent.
    this.vni[at] = NONE;
    this.outerEthSrc[at] = NONE;
    this.outerEthDst[at] = NONE;
    this.outerVlan[at] = NONE;
    this.outerIpSrc[at] = NONE;
    this.outerIpDst[at] = NONE;
    this.outerTtl[at] = NONE;
    this.outerSrcPort[at] = NONE;
    this.outerDstPort[at] = NONE;
    this.ipSrc[at] = NONE;
    this.ipDst[at] = NONE;
    this.ipId[at] = NONE;
    this.ttl[at] = NONE;
    this.proto[at] = NONE;
    this.srcPort[at] = NONE;
    this.dstPort[at] = NONE;
    this.typeOrFlags[at] = NONE;
    this.code[at] = NONE;
    this.seq[at] = NONE;
    this.ack[at] = NONE;
    this.payloadLength[at] = NONE;
    this.payloadHash[at] = NONE;
    this.point[at] = point;
    this.frame[at] = packet.frame.index;
    this.timeNs[at] = timeNs;
    this.correctedNs[at] = timeNs;
    this.length[at] = cooked === undefined ? packet.frame.originalLength : packet.frame.originalLength - cooked.length + ETHERNET_HEADER;
    if (eth !== undefined) {
      this.ethSrc[at] = eth.src;
      this.ethDst[at] = eth.dst;
      this.etherType[at] = eth.type;
    } else {
      this.ethSrc[at] = cookedSource(cooked!);
      this.ethDst[at] = UNRECORDED;
      this.etherType[at] = cooked!.etype;
    }
    // A tag is added, changed or taken off on the way (a VLAN trunk, an eth0.100): a change of
    // the frame, not another packet, so the EtherType is what the tags carry. (Looked for only
    // behind a tag's EtherType: going through the layers costs every frame otherwise.)
    this.vlan[at] = NONE;
    if (isTagType(this.etherType[at]!)) {
      this.vlan[at] = firstTagAt(packet, packet.tunnelDepth)?.id ?? NONE;
      this.etherType[at] = lastTagAt(packet, packet.tunnelDepth)?.etype ?? this.etherType[at]!;
    }
    this.fragment[at] = 0;

    const vxlan = packet.vxlan;
    if (vxlan !== undefined) {
      this.vni[at] = vxlan.vni;
      const outerEth = packet.first('eth', 0);
      if (outerEth !== undefined) {
        this.outerEthSrc[at] = outerEth.src;
        this.outerEthDst[at] = outerEth.dst;
        if (isTagType(outerEth.type)) this.outerVlan[at] = firstTagAt(packet, 0)?.id ?? NONE;
      } else if (cooked !== undefined) {
        this.outerEthSrc[at] = cookedSource(cooked);
        this.outerEthDst[at] = UNRECORDED;
      }
      const outerIp = packet.outerIpv4;
      if (outerIp !== undefined) {
        this.outerIpSrc[at] = outerIp.src;
        this.outerIpDst[at] = outerIp.dst;
        this.outerTtl[at] = outerIp.ttl;
      }
      const outerUdp = packet.outerUdp;
      if (outerUdp !== undefined) {
        this.outerSrcPort[at] = outerUdp.srcPort;
        this.outerDstPort[at] = outerUdp.dstPort;
      }
    }

    const bytes = packet.frame.bytes;
    hash.reset();
    if (packet.innerIpv4 !== undefined) {
      this.kind[at] = Kind.Ipv4;
      this.addIpv4(at, packet, bytes);
    } else {
      const arp = packet.last('arp');
      if (arp !== undefined && arp.depth === packet.tunnelDepth) {
        this.kind[at] = Kind.Arp;
        this.typeOrFlags[at] = arp.opcode;
        this.ipSrc[at] = arp.senderIp;
        this.ipDst[at] = arp.targetIp;
        // An ARP frame crosses no router: every field of it is the same wherever it is seen.
        hash.add(0xa4f0 + arp.opcode);
        hash.addBytes(bytes, arp.offset, Math.min(arp.offset + 28, bytes.length));
      } else {
        this.kind[at] = Kind.Other;
        // After the tags, which may differ from one point to the next.
        const link = (this.vlan[at] === NONE ? undefined : lastTagAt(packet, packet.tunnelDepth)) ?? eth ?? cooked!;
        hash.add(this.etherType[at]!);
        const start = link.offset + link.length;
        hash.addBytes(bytes, start, Math.min(start + PAYLOAD_BYTES_HASHED, bytes.length));
        hash.add(packet.frame.originalLength - start);
      }
    }
    this.identity[at] = hash.value();
    return true;
  }

  /**
   * The innermost IPv4 header and its transport, whose invariant fields make the identity
   * (mixIpv4Identity).
   *
   * The first bytes of payload tell apart two packets whose headers agree (IP IDs that collide,
   * or are 0, as for UDP with DF). They are kept apart from the identity, in payloadHash: a
   * capture with a snap length (`tcpdump -s 128`) may not hold them at one point and hold them
   * at the next, and the packet must match all the same.
   */
  private addIpv4(at: number, packet: Packet, bytes: Uint8Array): void {
    const ip = packet.innerIpv4!;
    this.ipSrc[at] = ip.src;
    this.ipDst[at] = ip.dst;
    this.ipId[at] = ip.id;
    this.ttl[at] = ip.ttl;
    this.proto[at] = ip.proto;
    this.fragment[at] = ip.mf || ip.fragOffset !== 0 ? 1 : 0;
    const transport = packet.transport;
    mixIpv4Identity(hash, ip, transport, bytes);

    // Where the payload ends as the IP header says, captured or not.
    const ipEnd = ip.offset + ip.totalLength;
    if (transport === undefined) {
      const start = ip.offset + ip.length;
      this.payloadHash[at] = payloadHashOf(bytes, start, ipEnd);
      return;
    }
    let payloadStart: number;
    switch (transport.protocol) {
      case 'tcp':
        this.srcPort[at] = transport.srcPort;
        this.dstPort[at] = transport.dstPort;
        this.typeOrFlags[at] = transport.flags;
        this.seq[at] = transport.seq;
        this.ack[at] = transport.ack;
        this.payloadLength[at] = transport.payloadLength;
        payloadStart = transport.offset + transport.length;
        break;
      case 'udp':
        this.srcPort[at] = transport.srcPort;
        this.dstPort[at] = transport.dstPort;
        this.payloadLength[at] = transport.payloadLength;
        payloadStart = transport.offset + 8;
        break;
      case 'icmp':
        this.typeOrFlags[at] = transport.type;
        this.code[at] = transport.code;
        if (transport.hasIdentifier) {
          // The echo identifier stands in for a port (NAT may rewrite it, so it stays out of
          // the identity).
          this.srcPort[at] = transport.ident;
          this.seq[at] = transport.seq;
        } else if (transport.mtu >= 0) {
          this.seq[at] = transport.mtu;
        }
        payloadStart = transport.offset + 8;
        if (transport.isError) {
          // Its payload is the quoted packet: what tells two errors apart, and what they are about.
          this.payloadHash[at] = quotedIdentityOf(packet, bytes);
          return;
        }
        break;
    }
    this.payloadHash[at] = payloadHashOf(bytes, payloadStart, ipEnd);
  }

  /** Columns of `capacity` slots, keeping what the old ones held. */
  private resize(capacity: number): void {
    this.generation += 1;
    for (const name of FIELD_NAMES) {
      const bigger = new Float64Array(capacity);
      const column = this.columns.get(name);
      if (column !== undefined) bigger.set(column);
      this.setColumn(name, bigger);
    }
  }

  private setColumn(name: SightingField, column: Float64Array): void {
    this.columns.set(name, column);
    this.columnList = [...this.columns.values()];
    (this as unknown as Record<SightingField, Float64Array>)[name] = column;
  }
}

const hash = new IdentityHash();
const payloadHasher = new IdentityHash();
const quoteHasher = new IdentityHash();

/**
 * Mixes into `h` what identifies an IPv4 packet wherever it is seen (see ipv4-identity.ts): its
 * header, its transport header, and for an ICMP error the quoted IP ID and protocol.
 */
function mixIpv4Identity(h: IdentityHash, ip: Ipv4Layer, transport: Packet['transport'], bytes: Uint8Array): void {
  mixIpv4Header(h, ip.proto, ip.id, ip.totalLength, (ip.flags << 13) | ip.fragOffset);
  switch (transport?.protocol) {
    case 'tcp':
      mixTcp(h, transport.seq, transport.ack, transport.flags);
      break;
    case 'udp':
      mixUdp(h, transport.udpLength);
      break;
    case 'icmp': {
      mixIcmp(h, transport.type, transport.code, transport.hasIdentifier, transport.seq);
      // An ICMP error quotes the offending header, which NAT rewrites: only the quoted IP ID
      // and protocol are kept (bytes 4-5 and 9 of the quote).
      const quote = transport.offset + 8;
      if (transport.isError && quote + 10 <= transport.payloadEnd) {
        h.add((bytes[quote + 4]! << 8) | bytes[quote + 5]!);
        h.add(bytes[quote + 9]!);
      }
      break;
    }
  }
}

/**
 * For an ICMP error, the identity of the packet it quotes, which finds the packet the error was
 * about (the innermost IPv4 header of the quote and its transport, mixed as that packet's own
 * sighting mixes them). NONE for any other packet, and where the quote is too short to tell (a
 * TCP header cut before its flags: RFC 792 asks only for 8 bytes; Linux quotes up to 576).
 */
export function quotedIdentityAt(store: SightingStore, slot: number): number {
  if (store.kind[slot] !== Kind.Ipv4 || store.proto[slot] !== 1 || !isIcmpErrorType(store.typeOrFlags[slot]!)) return NONE;
  return store.payloadHash[slot]!;
}

/** The next-hop MTU of a "fragmentation needed" error in `slot`, or NONE. */
export function nextHopMtuAt(store: SightingStore, slot: number): number {
  const icmp = store.kind[slot] === Kind.Ipv4 && store.proto[slot] === 1;
  return icmp && isFragmentationNeeded(store.typeOrFlags[slot]!, store.code[slot]!) ? store.seq[slot]! : NONE;
}

/**
 * The identity of the packet an ICMP error quotes: its innermost quoted IPv4 header (for a
 * VXLAN packet that was too big, the workload's header inside the quoted tunnel) and the
 * transport header after it, mixed as that packet's own sighting mixes them. NONE when the
 * quote holds no IPv4 header, or a transport header cut short (no TCP flags).
 */
function quotedIdentityOf(packet: Packet, bytes: Uint8Array): number {
  let ip: Ipv4Layer | undefined;
  let transport: Packet['transport'];
  for (const layer of packet.layers) {
    if (!layer.quoted) continue;
    if (layer.protocol === 'ip') {
      ip = layer;
      transport = undefined;
    } else if (ip !== undefined && transport === undefined && (layer.protocol === 'tcp' || layer.protocol === 'udp' || layer.protocol === 'icmp')) {
      transport = layer;
    }
  }
  if (ip === undefined) return NONE;
  // A packet with a transport header has it in its identity: without one in the quote (cut
  // short, or a later fragment, which has none), only a later fragment can be told. A TCP
  // header quoted in 8 bytes (`partial`) lacks the acknowledgement number and flags.
  if (transport === undefined && ip.fragOffset === 0 && (ip.proto === 6 || ip.proto === 17 || ip.proto === 1)) return NONE;
  if (transport?.protocol === 'tcp' && transport.partial) return NONE;
  quoteHasher.reset();
  mixIpv4Identity(quoteHasher, ip, transport, bytes);
  return quoteHasher.value();
}

/**
 * A hash of the first PAYLOAD_BYTES_HASHED bytes of the payload [start, end) (all of a shorter
 * one), or NONE when the frame was cut before them.
 */
export function payloadHashOf(bytes: Uint8Array, start: number, end: number): number {
  const hashedEnd = Math.min(start + PAYLOAD_BYTES_HASHED, end);
  if (hashedEnd > bytes.length) return NONE;
  payloadHasher.reset();
  payloadHasher.addBytes(bytes, start, Math.max(start, hashedEnd));
  return payloadHasher.value();
}

/** The Linux cooked header a frame of tcpdump -i any starts with, if it has one. */
function cookedHeader(packet: Packet): SllLayer | undefined {
  const linkType = packet.frame.linkType;
  // The link type first: an Ethernet frame (nearly every one) need not look through its layers.
  if (linkType !== LinkType.LINUX_SLL2 && linkType !== LinkType.LINUX_SLL) return undefined;
  return packet.first('sll', 0);
}

/** A cooked header's source address as a MAC; UNRECORDED when it is not one (6 bytes). */
function cookedSource(cooked: SllLayer): number {
  return cooked.srcMac >= 0 ? cooked.srcMac : UNRECORDED;
}

type Tag = VlanLayer | Ieee8021adLayer;

function isTag(layer: Layer, depth: number): layer is Tag {
  return (layer.protocol === 'vlan' || layer.protocol === 'ieee8021ad') && layer.depth === depth && !layer.quoted;
}

/** The first VLAN tag (802.1Q, or an 802.1ad service tag) after the link header at `depth`: the outermost of stacked tags. */
function firstTagAt(packet: Packet, depth: number): Tag | undefined {
  for (const layer of packet.layers) if (isTag(layer, depth)) return layer;
  return undefined;
}

/** The last VLAN tag after the link header at `depth` (the innermost of stacked tags), if any. */
function lastTagAt(packet: Packet, depth: number): Tag | undefined {
  let last: Tag | undefined;
  for (const layer of packet.layers) if (isTag(layer, depth)) last = layer;
  return last;
}
