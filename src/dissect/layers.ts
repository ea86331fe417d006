import type { ArpLayer } from './arp.js';
import type { EthLayer } from './ethernet.js';
import type { IcmpLayer } from './icmp.js';
import type { Ipv4Layer } from './ipv4.js';
import type { NullLayer } from './null.js';
import type { SllLayer } from './sll.js';
import type { TcpLayer } from './tcp.js';
import type { UdpLayer } from './udp.js';
import type { Ieee8021adLayer, VlanLayer } from './vlan.js';
import type { VxlanLayer } from './vxlan.js';

/**
 * Every layer vxdump decodes. `protocol` is the discriminant, so `if (l.protocol === 'vxlan')`
 * narrows `l` to VxlanLayer.
 */
export type Layer =
  | EthLayer
  | VlanLayer
  | Ieee8021adLayer
  | SllLayer
  | NullLayer
  | ArpLayer
  | Ipv4Layer
  | UdpLayer
  | VxlanLayer
  | IcmpLayer
  | TcpLayer;

export type Protocol = Layer['protocol'];

/** The layer type of a protocol name: LayerOf<'ip'> is Ipv4Layer. */
export type LayerOf<P extends Protocol> = Extract<Layer, { protocol: P }>;
