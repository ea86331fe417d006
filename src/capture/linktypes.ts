/**
 * Link-layer header types (tcpdump.org/linktypes.html): the number in a pcap file header or a
 * pcapng Interface Description Block that says what the first byte of each frame is.
 * Only the ones vxdump dissects are named; any other number is carried through and reported
 * per frame as unknown, never fatal.
 */
export const LinkType = {
  NULL: 0, // BSD loopback: 4-byte address family in the capturing host's byte order
  EN10MB: 1, // Ethernet
  RAW: 101, // raw IPv4 or IPv6, version nibble decides
  LOOP: 108, // OpenBSD loopback: 4-byte address family in network byte order
  LINUX_SLL: 113, // Linux cooked capture v1 (tcpdump -i any before libpcap 1.10)
  IPV4: 228, // raw IPv4
  IPV6: 229, // raw IPv6
  LINUX_SLL2: 276, // Linux cooked capture v2 (tcpdump -i any, libpcap 1.10+)
} as const;

const NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(LinkType).map(([name, value]) => [value, name]),
);

/** "EN10MB", "LINUX_SLL2", ... or "LINKTYPE_<n>" for a number vxdump does not know. */
export function linkTypeName(linkType: number): string {
  return NAMES.get(linkType) ?? `LINKTYPE_${linkType}`;
}

export function isKnownLinkType(linkType: number): boolean {
  return NAMES.has(linkType);
}
