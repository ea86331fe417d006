import { type ChangeValues, FIELD_COUNT, fieldNameOf, valueTypeOf } from '../correlate/changes.js';
import { ascii, CLOSE_OBJECT, COMMA, NULL, writeBytes, writeIpv4String, writeMacString, writeNumber } from '../dissect/json-bytes.js';
import { NONE } from '../correlate/sighting.js';

/**
 * Changes written as JSON bytes straight from their numbers: byte for byte what JSON.stringify
 * gives of the Change records (changes.ts, changesOf), without making them. A JSON trace writes
 * the changes of a hundred thousand ways of changing and of every hop of every flow; made as
 * records, their formatted MACs and strings were a third of what the trace allocated. The
 * sighting values here (null where absent) also make up trace's packets (trace-json.ts).
 */

/** Bytes the longest list of changes takes at most: every field, each with two MACs' worth of value. */
export const CHANGES_ROOM = FIELD_COUNT * 96;

/**
 * `{"field":"eth.src","from":"02:00:0a:f4:01:03","to":"02:00:0a:f4:01:00"},{...}`: the changes
 * without the brackets around them. Returns the position after them.
 */
export function writeChangeList(buf: Uint8Array, pos: number, changes: ChangeValues): number {
  const { mask, valueMask, values, kind, proto } = changes;
  let at = 0;
  let first = true;
  for (let i = 0; i < FIELD_COUNT; i++) {
    const bit = 1 << i;
    if ((valueMask & bit) === 0) continue;
    at += 2;
    if ((mask & bit) === 0) continue;
    if (!first) buf[pos++] = COMMA;
    first = false;
    pos = writeBytes(buf, pos, fieldOpening(i, kind, proto));
    pos = writeValue(buf, pos, i, values[at - 2]!);
    pos = writeBytes(buf, pos, TO);
    pos = writeValue(buf, pos, i, values[at - 1]!);
    buf[pos++] = CLOSE_OBJECT;
  }
  return pos;
}

const TO = ascii(',"to":');

/** `{"field":"<name>","from":` per field and class of packet, made at first use. */
const openings = new Map<number, Uint8Array>();

function fieldOpening(field: number, kind: number, proto: number): Uint8Array {
  // Kind and protocol (NONE's -1 included) as one number, then the field below 32.
  const key = ((kind + 1) * 65536 + (proto & 0xffff)) * 32 + field;
  let bytes = openings.get(key);
  if (bytes === undefined) {
    bytes = ascii(`{"field":${JSON.stringify(fieldNameOf(field, kind, proto))},"from":`);
    openings.set(key, bytes);
  }
  return bytes;
}

/** A field's value as changes.ts formats it: null where absent (a MAC: also where not recorded). */
function writeValue(buf: Uint8Array, pos: number, field: number, value: number): number {
  switch (valueTypeOf(field)) {
    case 'mac':
      return writeMacOrNull(buf, pos, value);
    case 'ip':
      return value === NONE ? writeBytes(buf, pos, NULL) : writeIpv4String(buf, pos, value);
    default:
      return writeNumberOrNull(buf, pos, value);
  }
}

/** A sighting's number (a VNI, a TTL, a port), or null where the header is absent (NONE). */
export function writeNumberOrNull(buf: Uint8Array, pos: number, value: number): number {
  return value === NONE ? writeBytes(buf, pos, NULL) : writeNumber(buf, pos, value);
}

/** A sighting's MAC, or null where absent (NONE) or not recorded (UNRECORDED, a Linux cooked capture's destination). */
export function writeMacOrNull(buf: Uint8Array, pos: number, mac: number): number {
  return mac < 0 ? writeBytes(buf, pos, NULL) : writeMacString(buf, pos, mac);
}
