import type { Frame } from '../capture/frame.js';
import type { DecodeContext } from './context.js';
import type { DissectError } from './error.js';
import type { EthLayer } from './ethernet.js';
import type { IcmpLayer } from './icmp.js';
import type { Ipv4Layer } from './ipv4.js';
import type { Layer, LayerOf, Protocol } from './layers.js';
import type { TcpLayer } from './tcp.js';
import type { UdpLayer } from './udp.js';
import type { VxlanLayer } from './vxlan.js';

/**
 * A decoded frame: the frame, its layers from the outside in, and where decoding stopped early.
 *
 * Encapsulation is explicit. Every layer has a `depth`: 0 for the underlay, n inside the n-th
 * VXLAN header. The properties below answer the usual questions without anyone counting
 * positions; they were noted while decoding, so reading them costs nothing:
 *
 *   packet.vxlan?.vni                      the tunnel (outermost VXLAN header)
 *   packet.outerIpv4?.src, .outerUdp       the underlay (VTEP addresses, flow-hash port)
 *   packet.innerIpv4?.src, .transport      the workload's own headers, inside the innermost tunnel
 *
 * "inner" means at the innermost encapsulation depth (`tunnelDepth`); for a packet without
 * VXLAN that is simply its only IPv4 header. A VXLAN packet carrying ARP has no innerIpv4 (its
 * only IPv4 header is the outer one). Layers quoted inside an ICMP error are marked `quoted` and
 * never returned by these helpers: they describe another packet.
 *
 * `frame.bytes` is the reader's view and goes stale when the reader moves on; the layers do not
 * refer to it and stay valid.
 */
export class Packet {
  declare readonly frame: Frame;
  declare readonly layers: readonly Layer[];
  declare readonly error: DissectError | null;
  /** The outermost VXLAN header: the tunnel this packet travels in. */
  declare readonly vxlan: VxlanLayer | undefined;
  /** How many VXLAN headers were decoded: 0 for a packet that is not tunnelled. */
  declare readonly tunnelDepth: number;
  /** The underlay's IPv4 header (the VTEP addresses of a VXLAN packet). */
  declare readonly outerIpv4: Ipv4Layer | undefined;
  /** The underlay's UDP header (for VXLAN: source port = flow hash, destination = 4789, ...). */
  declare readonly outerUdp: UdpLayer | undefined;
  /**
   * Bad IPv4 header and ICMP checksums among the layers (quoted ones not counted), and bad UDP
   * and TCP checksums: what badChecksums(packet) counts, noted while decoding.
   */
  declare readonly badHeaderChecksums: number;
  declare readonly badTransportChecksums: number;
  private declare readonly lastEth: EthLayer | undefined;
  private declare readonly lastIpv4: Ipv4Layer | undefined;
  private declare readonly lastTransport: TcpLayer | UdpLayer | IcmpLayer | undefined;

  constructor(frame: Frame, ctx: DecodeContext) {
    this.frame = frame;
    this.layers = ctx.layers;
    this.error = ctx.error;
    this.vxlan = ctx.vxlan;
    this.tunnelDepth = ctx.vxlanCount;
    this.outerIpv4 = ctx.outerIpv4;
    this.outerUdp = ctx.outerUdp;
    this.lastEth = ctx.innerEth;
    this.lastIpv4 = ctx.innerIpv4;
    this.lastTransport = ctx.lastTransport;
    this.badHeaderChecksums = ctx.badHeaderChecksums;
    this.badTransportChecksums = ctx.badTransportChecksums;
  }

  /** The innermost Ethernet header (inside the innermost tunnel). */
  get innerEth(): EthLayer | undefined {
    const l = this.lastEth;
    return l !== undefined && l.depth === this.tunnelDepth ? l : undefined;
  }

  /** The workload's IPv4 header, inside the innermost tunnel. */
  get innerIpv4(): Ipv4Layer | undefined {
    const l = this.lastIpv4;
    return l !== undefined && l.depth === this.tunnelDepth ? l : undefined;
  }

  /** The workload's TCP, UDP or ICMP header, inside the innermost tunnel. */
  get transport(): TcpLayer | UdpLayer | IcmpLayer | undefined {
    const l = this.lastTransport;
    return l !== undefined && l.depth === this.tunnelDepth ? l : undefined;
  }

  get innerTcp(): TcpLayer | undefined {
    const l = this.transport;
    return l !== undefined && l.protocol === 'tcp' ? l : undefined;
  }

  get innerUdp(): UdpLayer | undefined {
    const l = this.transport;
    return l !== undefined && l.protocol === 'udp' ? l : undefined;
  }

  get innerIcmp(): IcmpLayer | undefined {
    const l = this.transport;
    return l !== undefined && l.protocol === 'icmp' ? l : undefined;
  }

  /** Every VXLAN header, outermost first (more than one for VXLAN inside VXLAN). */
  get vxlans(): VxlanLayer[] {
    return this.all('vxlan');
  }

  /** The outermost layer of a protocol, optionally at one encapsulation depth. */
  first<P extends Protocol>(protocol: P, depth?: number): LayerOf<P> | undefined {
    for (const layer of this.layers) {
      if (layer.protocol === protocol && !layer.quoted && (depth === undefined || layer.depth === depth)) {
        return layer as LayerOf<P>;
      }
    }
    return undefined;
  }

  /** The innermost layer of a protocol, whatever its depth. */
  last<P extends Protocol>(protocol: P): LayerOf<P> | undefined {
    const layers = this.layers;
    for (let i = layers.length - 1; i >= 0; i--) {
      const layer = layers[i]!;
      if (layer.protocol === protocol && !layer.quoted) return layer as LayerOf<P>;
    }
    return undefined;
  }

  /** All layers of a protocol, outermost first. */
  all<P extends Protocol>(protocol: P): LayerOf<P>[] {
    return this.layers.filter((l) => l.protocol === protocol && !l.quoted) as LayerOf<P>[];
  }

  /** The layers at one encapsulation depth: 0 the underlay, 1 inside the first VXLAN, ... */
  at(depth: number): Layer[] {
    return this.layers.filter((l) => l.depth === depth && !l.quoted);
  }

  /** The layers quoted in an ICMP error (the start of the packet that caused it). */
  get quoted(): Layer[] {
    return this.layers.filter((l) => l.quoted);
  }
}
