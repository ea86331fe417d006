/**
 * The dissectors: frames in, layered packets out.
 *
 *   import { createDissector, packetToJson } from './dissect/index.js';
 *   const dissect = createDissector({ vxlanPorts: [4789, 8472], vxlanHeuristic: false });
 *   const packet = dissect(frame);
 *   packet.vxlan?.vni, packet.outerIpv4?.src, packet.innerIpv4?.dst, packet.innerTcp?.flags
 *   packetToJson(packet, 'node1-eth0.pcap')
 */
export { createDissector, createTables, DEFAULT_MAX_VXLAN_DEPTH, DEFAULT_VXLAN_PORTS } from './dissector.js';
export type { Dissector, DissectorOptions } from './dissector.js';
export { Packet } from './packet.js';
export type { DissectError } from './error.js';
export type { Layer, LayerOf, Protocol } from './layers.js';
export type { ChecksumStatus, FieldValue, Fields } from './layer.js';
export { LayerBase } from './layer.js';
export { EthLayer, isGroupMac } from './ethernet.js';
export { VlanLayer, Ieee8021adLayer, MAX_VLAN_TAGS } from './vlan.js';
export { SllLayer } from './sll.js';
export { NullLayer } from './null.js';
export { ArpLayer } from './arp.js';
export { Ipv4Layer } from './ipv4.js';
export { UdpLayer } from './udp.js';
export { VxlanLayer } from './vxlan.js';
export { IcmpLayer, icmpTypeName, icmpHasIdentifier, isFragmentationNeeded, isIcmpErrorType } from './icmp.js';
export { TcpLayer } from './tcp.js';
export type { TcpOptions } from './tcp.js';
export { DissectorTables } from './tables.js';
export type { Decoder } from './tables.js';
export { DecodeContext } from './context.js';
export { packetToJson, packetToJsonText } from './json.js';
export type { PacketJson, LayerJson } from './json.js';
export { badChecksums, isMalformed, isTruncated, packetHealth } from './health.js';
export type { ChecksumCounts, PacketHealth } from './health.js';
export { formatIpv4, formatMac, parseIpv4, parseMac, hex } from './format.js';
