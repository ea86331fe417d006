import { packetName } from './describe.js';
import { NONE, type SightingStore } from './sighting.js';

/** The numbers a note keeps of a packet, one row each. */
const ID = 0;
const FRAME = 1;
/** Row of the next note in the same list, NONE at its end. */
const NEXT = 2;
const KIND = 3;
const TYPE_OR_FLAGS = 4;
const LENGTH = 5;
const IP_ID = 6;
const PROTO = 7;
const SEQ = 8;
const ACK = 9;
const PAYLOAD_LENGTH = 10;
const CODE = 11;
const ROW = 12;

/**
 * Packets remembered for listing at the end of a run (diff's odd ones): the journey id, the
 * frame number at the first point and what packetName needs, as rows of one Float64Array.
 *
 * A diff may keep up to fifty packets of every flow and way of changing, which on a capture of
 * a million packets is nearly all of them, and all live to the end. As objects with a name
 * string each they were the collector's main work on diff's thread; rows of numbers are not
 * traced, and the name is made only for the few packets that are printed.
 *
 * Notes are chained into lists (one per flow and way of changing) through their NEXT field.
 */
export class PacketNotes {
  private rows = new Float64Array(ROW * 4096);
  private count = 0;

  /** Notes the packet of journey `id` from its sighting `slot`, at the end of no list yet. */
  add(id: number, store: SightingStore, slot: number): number {
    if ((this.count + 1) * ROW > this.rows.length) {
      const bigger = new Float64Array(this.rows.length * 2);
      bigger.set(this.rows);
      this.rows = bigger;
    }
    const note = this.count++;
    const rows = this.rows;
    const at = note * ROW;
    rows[at + ID] = id;
    rows[at + FRAME] = store.frame[slot]!;
    rows[at + NEXT] = NONE;
    rows[at + KIND] = store.kind[slot]!;
    rows[at + TYPE_OR_FLAGS] = store.typeOrFlags[slot]!;
    rows[at + LENGTH] = store.length[slot]!;
    rows[at + IP_ID] = store.ipId[slot]!;
    rows[at + PROTO] = store.proto[slot]!;
    rows[at + SEQ] = store.seq[slot]!;
    rows[at + ACK] = store.ack[slot]!;
    rows[at + PAYLOAD_LENGTH] = store.payloadLength[slot]!;
    rows[at + CODE] = store.code[slot]!;
    return note;
  }

  /** Makes `next` follow `note` in its list. */
  link(note: number, next: number): void {
    this.rows[note * ROW + NEXT] = next;
  }

  next(note: number): number {
    return this.rows[note * ROW + NEXT]!;
  }

  id(note: number): number {
    return this.rows[note * ROW + ID]!;
  }

  frame(note: number): number {
    return this.rows[note * ROW + FRAME]!;
  }

  /** packetName of the noted packet: "[S.] seq 1000 ack 1 len 0, ip id 4711". */
  name(note: number): string {
    const rows = this.rows;
    const at = note * ROW;
    return packetName({
      kind: rows[at + KIND]!,
      typeOrFlags: rows[at + TYPE_OR_FLAGS]!,
      length: rows[at + LENGTH]!,
      ipId: rows[at + IP_ID]!,
      proto: rows[at + PROTO]!,
      seq: rows[at + SEQ]!,
      ack: rows[at + ACK]!,
      payloadLength: rows[at + PAYLOAD_LENGTH]!,
      code: rows[at + CODE]!,
    });
  }
}
