import { tcpFlagsText } from '../correlate/describe.js';
import { Kind, NONE, type SightingStore } from '../correlate/sighting.js';
import { ascii, writeAscii, writeBytes, writeNumber } from '../dissect/json-bytes.js';

/**
 * The names of TCP segments and UDP datagrams (describe.ts, packetName) written as bytes, for
 * trace's JSON, which names every packet: made as strings, they were a tenth of what a JSON trace
 * allocated. Other packets (ICMP, ARP) keep the string: their names have more cases and are rarer.
 */

/** Bytes a name written here takes at most: "[FSRP.UEW] seq 4294967295 ack 4294967295 len 65535, ip id 65535". */
export const PACKET_NAME_ROOM = 96;

/** Whether writePacketName writes the name of the packet in `slot`. */
export function hasNameBytes(store: SightingStore, slot: number): boolean {
  if (store.kind[slot] !== Kind.Ipv4) return false;
  const proto = store.proto[slot];
  return (proto === 6 && store.typeOrFlags[slot] !== NONE) || proto === 17;
}

/** packetNameAt(store, slot) as ASCII bytes, for a packet hasNameBytes says yes to. */
export function writePacketName(buf: Uint8Array, pos: number, store: SightingStore, slot: number): number {
  if (store.proto[slot] === 6) {
    buf[pos++] = OPEN_BRACKET;
    pos = writeAscii(buf, pos, tcpFlagsText(store.typeOrFlags[slot]!));
    pos = writeBytes(buf, pos, SEQ);
    pos = writeNumber(buf, pos, store.seq[slot]!);
    pos = writeBytes(buf, pos, ACK);
    pos = writeNumber(buf, pos, store.ack[slot]!);
    pos = writeBytes(buf, pos, TCP_LEN);
  } else {
    pos = writeBytes(buf, pos, UDP_LEN);
  }
  pos = writeNumber(buf, pos, store.payloadLength[slot]!);
  pos = writeBytes(buf, pos, IP_ID);
  return writeNumber(buf, pos, store.ipId[slot]!);
}

const OPEN_BRACKET = 0x5b;
const SEQ = ascii('] seq ');
const ACK = ascii(' ack ');
const TCP_LEN = ascii(' len ');
const UDP_LEN = ascii('len ');
const IP_ID = ascii(', ip id ');
