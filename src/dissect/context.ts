import type { DissectError } from './error.js';
import type { EthLayer } from './ethernet.js';
import type { IcmpLayer } from './icmp.js';
import type { Ipv4Layer } from './ipv4.js';
import type { Layer } from './layers.js';
import type { TcpLayer } from './tcp.js';
import type { UdpLayer } from './udp.js';
import type { VxlanLayer } from './vxlan.js';
import type { DissectorTables } from './tables.js';

/** Options after defaults were applied. */
export interface ResolvedOptions {
  readonly vxlanHeuristic: boolean;
  readonly maxVxlanDepth: number;
  readonly verifyChecksums: boolean;
}

const EMPTY = new Uint8Array(0);

/**
 * The state one frame's decoding threads through the decoders. One context per dissector is
 * reused for every frame (reset() per frame), so decoding allocates only the layers themselves.
 */
export class DecodeContext {
  bytes: Uint8Array = EMPTY;
  /**
   * A DataView over the whole buffer behind `bytes` (the checksum loop reads 32-bit words
   * through it) and the offset of `bytes` in it. Kept while the reader reuses its buffer, so
   * normally no DataView is created per frame; made on first use (dataView()), so a dissector
   * that verifies no checksums never makes one.
   */
  view: DataView = new DataView(EMPTY.buffer);
  viewBase = 0;
  private viewChecked = false;
  layers: Layer[] = [];
  error: DissectError | null = null;
  /** The capture stored fewer bytes than the frame had (snap length). */
  cut = false;
  // Encapsulation landmarks, noted by the decoders as they push (never for quoted layers), so
  // that Packet answers "the VXLAN header", "the inner IPv4" without scanning its layers.
  vxlan: VxlanLayer | undefined = undefined;
  vxlanCount = 0;
  outerIpv4: Ipv4Layer | undefined = undefined;
  outerUdp: UdpLayer | undefined = undefined;
  innerEth: EthLayer | undefined = undefined;
  innerIpv4: Ipv4Layer | undefined = undefined;
  /** The last TCP, UDP or ICMP header pushed. */
  lastTransport: TcpLayer | UdpLayer | IcmpLayer | undefined = undefined;
  /** Bad IPv4 header and ICMP checksums of the layers pushed (not quoted): see health.ts. */
  badHeaderChecksums = 0;
  /** Bad UDP and TCP checksums of the layers pushed (not quoted). */
  badTransportChecksums = 0;

  /** VXLAN nesting of the layers being decoded now. */
  depth = 0;
  /** Decoding the datagram quoted in an ICMP error (see LayerBase.quoted). */
  quoted = false;

  // The enclosing IPv4 header, for the UDP/TCP pseudo-header checksum and lengths. Decoding is
  // depth-first and a transport decoder reads these before it hands its payload on, so an inner
  // IPv4 header overwriting them later does no harm.
  ipSrc = 0;
  ipDst = 0;
  /** Payload length the IPv4 header claims (total length − header length). */
  ipPayloadLength = 0;
  /** The enclosing IPv4 packet is a fragment: the transport checksum cannot be verified. */
  ipFragment = false;
  /** The enclosing IPv4 header said total length 0 (TSO / BIG TCP): see decodeUdp. */
  ipLengthFromCapture = false;

  constructor(
    readonly tables: DissectorTables,
    readonly options: ResolvedOptions,
  ) {}

  reset(bytes: Uint8Array, cut: boolean): void {
    this.bytes = bytes;
    this.viewBase = bytes.byteOffset;
    this.cut = cut;
    this.layers = [];
    this.error = null;
    this.depth = 0;
    this.quoted = false;
    this.ipFragment = false;
    this.ipLengthFromCapture = false;
    this.viewChecked = false;
    this.vxlan = undefined;
    this.vxlanCount = 0;
    this.outerIpv4 = undefined;
    this.outerUdp = undefined;
    this.innerEth = undefined;
    this.innerIpv4 = undefined;
    this.lastTransport = undefined;
    this.badHeaderChecksums = 0;
    this.badTransportChecksums = 0;
  }

  dataView(): DataView {
    // Reading `.buffer` of a typed array is not free: check once per frame.
    if (!this.viewChecked) {
      const buffer = this.bytes.buffer;
      if (this.view.buffer !== buffer) this.view = new DataView(buffer);
      this.viewChecked = true;
    }
    return this.view;
  }

  push(layer: Layer): void {
    if (this.quoted) layer.quoted = true;
    this.layers.push(layer);
  }

  /**
   * Records why decoding stops at `layer`. `needEnd` is the frame offset the decoder needed to
   * read up to; when it lies past the captured bytes of a cut frame, the cause is the snap length.
   * Inside an ICMP quote running out of bytes is normal (only the start of the datagram is
   * quoted), so nothing is recorded there.
   */
  fail(layer: string, name: string, offset: number, message: string, needEnd: number): void {
    if (this.quoted || this.error !== null) return;
    this.error = {
      layer,
      offset,
      message: `${name}: ${message} at offset ${offset}`,
      truncated: this.cut && needEnd > this.bytes.length,
    };
  }

  /** Fails with the standard "needs N bytes, M left" message. */
  short(layer: string, name: string, offset: number, end: number, need: number, what = 'header'): void {
    const left = end - offset;
    this.fail(layer, name, offset, `${what} needs ${need} bytes, ${left < 0 ? 0 : left} left`, offset + need);
  }
}
