import { formatIpv4, icmpTypeName } from '../dissect/index.js';
import { NONE, nextHopMtuAt, type SightingStore } from './sighting.js';

/**
 * An ICMP error that quoted a traced packet: a router or host saying why the packet went no
 * farther. "Fragmentation needed" from the node that routes into a VXLAN device with a smaller
 * MTU is the overlay's classic failure; "time exceeded" answers a traceroute or mtr probe; "port
 * unreachable" or "administratively prohibited" a closed port or a firewall's REJECT.
 *
 * The matcher links the two when the error is first seen (JourneyMatcher.add): the error's
 * quotedIdentityAt is the quoted packet's identity, and that packet's journey is still open then,
 * an error coming microseconds to milliseconds after it.
 */
export interface IcmpErrorNote {
  /** The error's own traced packet (journey id). */
  readonly packet: number;
  readonly type: number;
  readonly code: number;
  /** Who sent it: the error's IPv4 source address. */
  readonly from: number;
  /** Where it was first seen, and its frame number there. */
  readonly point: number;
  readonly frame: number;
  /** The next-hop MTU of "fragmentation needed"; null for any other error. */
  readonly mtu: number | null;
}

const TIME_EXCEEDED = 11;
const TTL_EXCEEDED_IN_TRANSIT = 0;

/** The note for the ICMP error whose first sighting is `slot`, traced as packet `packet`. */
export function icmpErrorNote(store: SightingStore, slot: number, packet: number): IcmpErrorNote {
  const mtu = nextHopMtuAt(store, slot);
  return {
    packet,
    type: store.typeOrFlags[slot]!,
    code: store.code[slot]!,
    from: store.ipSrc[slot]!,
    point: store.point[slot]!,
    frame: store.frame[slot]!,
    mtu: mtu === NONE ? null : mtu,
  };
}

/** Whether the error says a router dropped the packet because its TTL ran out (not reassembly time). */
export function isTtlExceeded(note: IcmpErrorNote): boolean {
  return note.type === TIME_EXCEEDED && note.code === TTL_EXCEEDED_IN_TRANSIT;
}

/** "destination unreachable (fragmentation needed), next-hop MTU 1450": the error in words. */
export function icmpErrorName(note: IcmpErrorNote): string {
  const name = icmpTypeName(note.type, note.code);
  return note.mtu === null ? name : `${name}, next-hop MTU ${note.mtu}`;
}

/** "10.244.1.1 sent ICMP destination unreachable (fragmentation needed), next-hop MTU 1450". */
export function icmpErrorText(note: IcmpErrorNote): string {
  return `${formatIpv4(note.from)} sent ICMP ${icmpErrorName(note)}`;
}
