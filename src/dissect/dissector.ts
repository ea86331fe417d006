import type { Frame } from '../capture/frame.js';
import { LinkType, linkTypeName } from '../capture/linktypes.js';
import { decodeArp } from './arp.js';
import { DecodeContext, type ResolvedOptions } from './context.js';
import { decodeEthernet } from './ethernet.js';
import { decodeIcmp } from './icmp.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeLoop, decodeNull, decodeRaw } from './null.js';
import { Packet } from './packet.js';
import { decodeSll, decodeSll2 } from './sll.js';
import { DissectorTables } from './tables.js';
import { decodeTcp } from './tcp.js';
import { decodeUdp } from './udp.js';
import { decodeIeee8021ad, decodeVlan, ETHERTYPE_8021AD, ETHERTYPE_8021Q, ETHERTYPE_QINQ_PRESTANDARD } from './vlan.js';
import { decodeVxlan, vxlanHeuristic } from './vxlan.js';

export interface DissectorOptions {
  /**
   * UDP ports decoded as VXLAN. Replaces the defaults (4789, the IANA port, and 8472, the Linux
   * kernel's and flannel's) when given, like `--vxlan-port`.
   */
  vxlanPorts?: readonly number[];
  /** Also decode VXLAN on other ports when the payload looks like it (`--vxlan-heuristic`). */
  vxlanHeuristic?: boolean;
  /** Nested VXLAN headers decoded at most (default 4); deeper inner frames are left undecoded. */
  maxVxlanDepth?: number;
  /**
   * Verify IPv4, ICMP, UDP and TCP checksums (default true). Off, statuses are "unverified";
   * a consumer that never looks at checksums saves summing every payload byte.
   */
  verifyChecksums?: boolean;
}

export type Dissector = (frame: Frame) => Packet;

export const DEFAULT_VXLAN_PORTS: readonly number[] = [4789, 8472];
export const DEFAULT_MAX_VXLAN_DEPTH = 4;
const MAX_VXLAN_DEPTH_LIMIT = 64;

/** Builds the dissector tables for a set of options: the one place that wires protocols together. */
export function createTables(options: DissectorOptions = {}): DissectorTables {
  const t = new DissectorTables();
  t.linkType.set(LinkType.EN10MB, decodeEthernet);
  t.linkType.set(LinkType.LINUX_SLL, decodeSll);
  t.linkType.set(LinkType.LINUX_SLL2, decodeSll2);
  t.linkType.set(LinkType.RAW, decodeRaw);
  t.linkType.set(LinkType.IPV4, decodeIpv4);
  t.linkType.set(LinkType.NULL, decodeNull);
  t.linkType.set(LinkType.LOOP, decodeLoop);

  t.ethertype[0x0800] = decodeIpv4;
  t.ethertype[0x0806] = decodeArp;
  t.ethertype[ETHERTYPE_8021Q] = decodeVlan;
  t.ethertype[ETHERTYPE_QINQ_PRESTANDARD] = decodeVlan; // pre-802.1ad QinQ outer tag
  t.ethertype[ETHERTYPE_8021AD] = decodeIeee8021ad;

  t.ipProtocol[1] = decodeIcmp;
  t.ipProtocol[6] = decodeTcp;
  t.ipProtocol[17] = decodeUdp;

  for (const port of options.vxlanPorts ?? DEFAULT_VXLAN_PORTS) {
    if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw new RangeError(`not a UDP port: ${port}`);
    t.udpPort[port] = decodeVxlan;
  }
  if (options.vxlanHeuristic === true) t.udpHeuristics.push(vxlanHeuristic);
  return t;
}

/**
 * Returns a function that decodes one frame into a Packet. It never throws on frame content:
 * a frame that cannot be decoded completely gives the layers that could be read and an error.
 *
 *   const dissect = createDissector({ vxlanPorts: [8472] });
 *   for (const frame of openCapture('eth0.pcap')) {
 *     const p = dissect(frame);
 *     p.vxlan?.vni; p.innerIpv4?.src; p.outerUdp?.srcPort;
 *   }
 */
export function createDissector(options: DissectorOptions = {}): Dissector {
  const maxVxlanDepth = options.maxVxlanDepth ?? DEFAULT_MAX_VXLAN_DEPTH;
  // Each level is a recursion of the decoders; a bound keeps a crafted frame off the stack limit.
  if (!Number.isInteger(maxVxlanDepth) || maxVxlanDepth < 0 || maxVxlanDepth > MAX_VXLAN_DEPTH_LIMIT) {
    throw new RangeError(`maxVxlanDepth must be an integer from 0 to ${MAX_VXLAN_DEPTH_LIMIT}: ${maxVxlanDepth}`);
  }
  const resolved: ResolvedOptions = {
    vxlanHeuristic: options.vxlanHeuristic === true,
    maxVxlanDepth,
    verifyChecksums: options.verifyChecksums !== false,
  };
  const tables = createTables(options);
  const ctx = new DecodeContext(tables, resolved);
  // A capture has one link type, or a few: skip the Map for a repeat.
  let lastLinkType = -1;
  let lastFirst: ((ctx: DecodeContext, offset: number, end: number) => void) | undefined;
  return (frame: Frame): Packet => {
    const bytes = frame.bytes;
    ctx.reset(bytes, frame.capturedLength < frame.originalLength);
    const linkType = frame.linkType;
    if (linkType !== lastLinkType) {
      lastLinkType = linkType;
      lastFirst = tables.linkType.get(linkType);
    }
    const first = lastFirst;
    if (first === undefined) {
      const name = linkTypeName(frame.linkType);
      const what = name.startsWith('LINKTYPE_') ? `link type ${frame.linkType}` : `link type ${frame.linkType} (${name})`;
      ctx.fail('frame', 'frame', 0, `${what} is not supported`, 0);
    } else {
      try {
        first(ctx, 0, bytes.length);
      } catch (error) {
        // A decoder bug must not take the whole capture down: report it as this frame's error.
        ctx.quoted = false;
        ctx.error = null;
        ctx.fail('frame', 'vxdump', 0, `internal decoder error: ${(error as Error).message}`, 0);
      }
    }
    return new Packet(frame, ctx);
  };
}
