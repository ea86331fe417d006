import type { Packet } from './packet.js';

/**
 * What counts as a broken packet, in one place so that the summary, the CI assertions and the
 * printers agree.
 *
 * A bad UDP or TCP checksum is usually not corruption: with checksum offload the capture sees
 * the packet before the NIC fills the checksum in, and veth pairs hand such packets on, so in a
 * veth lab every transport checksum looks bad. Those count only with `strictChecksums`
 * (`--strict-checksums`); printers show them as "bad (offload?)". IPv4 header and ICMP
 * checksums are computed in software by the kernel, so a bad one is a real problem.
 */
export interface ChecksumCounts {
  /** Bad IPv4 header and ICMP checksums. */
  readonly header: number;
  /** Bad UDP and TCP checksums (probably offload). */
  readonly transport: number;
}

export function badChecksums(packet: Packet): ChecksumCounts {
  let header = 0;
  let transport = 0;
  for (const layer of packet.layers) {
    if (layer.quoted) continue;
    switch (layer.protocol) {
      case 'ip':
      case 'icmp':
        if (layer.checksumStatus === 'bad') header++;
        break;
      case 'udp':
      case 'tcp':
        if (layer.checksumStatus === 'bad') transport++;
        break;
      default:
        break;
    }
  }
  return { header, transport };
}

/** A frame cut by the capture's snap length: incomplete, but not malformed. */
export function isTruncated(packet: Packet): boolean {
  return packet.error !== null && packet.error.truncated;
}

/** Everything health.ts says about one packet, with the checksums walked once. */
export interface PacketHealth {
  readonly malformed: boolean;
  readonly truncated: boolean;
  readonly bad: ChecksumCounts;
}

export function packetHealth(packet: Packet, options: { strictChecksums?: boolean } = {}): PacketHealth {
  // The decoders counted the bad checksums as they went (what badChecksums walks the layers for).
  const bad = { header: packet.badHeaderChecksums, transport: packet.badTransportChecksums };
  return { malformed: isMalformed(packet, options), truncated: isTruncated(packet), bad };
}

/**
 * Malformed: decoding stopped for a reason other than the snap length, or a header checksum is
 * bad, or (strict) a transport checksum is bad. Allocates nothing: per-packet loops call it.
 */
export function isMalformed(packet: Packet, options: { strictChecksums?: boolean } = {}): boolean {
  const error = packet.error;
  return (
    (error !== null && !error.truncated) ||
    packet.badHeaderChecksums > 0 ||
    (options.strictChecksums === true && packet.badTransportChecksums > 0)
  );
}
