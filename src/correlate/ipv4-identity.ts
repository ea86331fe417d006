import type { IdentityHash } from './identity-hash.js';

/*
 * What identifies an IPv4 packet wherever it is seen, as numbers: both sighting decoders (the
 * dissector's layers in sighting.ts, the common frame's bytes in common-frames.ts) mix the same
 * fields in the same order through these functions, so that a packet gets one identity whichever
 * of them decoded it.
 *
 * No hop changes what is mixed in. Not the TTL and header checksum (routers), not addresses and
 * ports (NAT), not the TCP/UDP checksum (NAT, and offload leaves it unfilled at some points and
 * not at others). What is left (IP ID, length, fragment, protocol, TCP sequence and flags, ICMP
 * type and sequence) tells a retransmission from the original, since Linux gives the copy a new
 * IP ID.
 */

/** The IPv4 header's share: `flagsAndOffset` is the header's 16-bit word 3 (flags << 13 | fragment offset). */
export function mixIpv4Header(h: IdentityHash, proto: number, id: number, totalLength: number, flagsAndOffset: number): void {
  h.add(proto);
  h.add(id);
  h.add(totalLength);
  h.add(flagsAndOffset);
}

export function mixTcp(h: IdentityHash, seq: number, ack: number, flags: number): void {
  h.add(seq);
  h.add(ack);
  h.add(flags);
}

export function mixUdp(h: IdentityHash, udpLength: number): void {
  h.add(udpLength);
}

/**
 * An ICMP header's share. The echo sequence number does not change; the identifier may (NAT), so
 * it stays out. An error's quote is mixed in after this by sighting.ts, which alone decodes errors.
 */
export function mixIcmp(h: IdentityHash, type: number, code: number, hasIdentifier: boolean, echoSeq: number): void {
  if (hasIdentifier) h.add(echoSeq);
  h.add((type << 8) | code);
}
