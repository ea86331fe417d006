/**
 * Writing JSON as bytes, straight into an output buffer: the fast path for `--format ndjson` and
 * `json`. Building a 2 KB string per packet from templates and then encoding it cost about 9 µs
 * a packet, most of it making and flattening strings; writing the bytes costs a fraction.
 *
 * Every function takes the buffer and a position and returns the position after what it wrote.
 * Callers make room first (JsonSink.reserve): nothing here checks the buffer's length. The
 * output is byte for byte what the string writers (LayerBase.fieldsJson, packetToJsonText) give;
 * test/dissect/json-bytes.test.ts holds them to that on every real, crafted and fuzzed packet.
 */

/** Where packet JSON is written: LineOutput (report/output.ts) is one. */
export interface JsonSink {
  /**
   * The bytes; `used` of them are filled. A plain Uint8Array (not a Buffer): stores into one
   * kind of array stay monomorphic. May be replaced by reserve().
   */
  readonly bytes: Uint8Array;
  used: number;
  /** Makes room for at least `bytes` more bytes after `used` (flushing what is there). */
  reserve(bytes: number): void;
  /** Appends a string as UTF-8 (no newline). */
  text(text: string): void;
}

/** Room a layer's fields need at most (the largest, TCP with 40 option bytes, needs ~1.3 KB). */
export const LAYER_FIELDS_ROOM = 4096;

/** A string's UTF-8 bytes in a plain Uint8Array (a Buffer would make the stores polymorphic). */
export function utf8(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'utf8'));
}

/** The bytes of an ASCII string, for the fixed parts of the JSON. */
export function ascii(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** JSON's punctuation, for the writers that put documents together byte by byte (report/*-bytes.ts, trace-json.ts). */
export const COMMA = 0x2c;
export const QUOTE = 0x22;
export const OPEN_ARRAY = 0x5b;
export const CLOSE_ARRAY = 0x5d;
export const CLOSE_OBJECT = 0x7d;
export const NULL = ascii('null');
export const EMPTY_ARRAY = ascii('[]');

export function writeBytes(buf: Uint8Array, pos: number, bytes: Uint8Array): number {
  const n = bytes.length;
  if (n > 48) buf.set(bytes, pos); // memcpy, once the call costs less than the loop
  else for (let i = 0; i < n; i++) buf[pos + i] = bytes[i]!;
  return pos + n;
}

/**
 * A direct-mapped cache of byte strings by a numeric key (an address, a flag word): the JSON
 * text of values that repeat from packet to packet is made once. Keys are exact: a slot holds
 * one key, and a different key with the same slot replaces it.
 */
export class ByteCache {
  private readonly keys: Float64Array;
  private readonly values: (Uint8Array | undefined)[];
  private readonly shift: number;

  constructor(
    private readonly make: (key: number) => Uint8Array,
    /** Slots: a power of two. */
    size = 1024,
  ) {
    this.keys = new Float64Array(size).fill(Number.NaN);
    this.values = new Array<Uint8Array | undefined>(size).fill(undefined);
    this.shift = 32 - Math.log2(size);
  }

  /** The bytes for `key`, a number that is an exact integer below 2^53. */
  get(key: number): Uint8Array {
    // Fibonacci hashing of both 32-bit halves: the top bits of the product pick the slot.
    const slot = Math.imul((key | 0) ^ Math.imul((key / 0x1_0000_0000) | 0, 0x85ebca6b), 0x9e3779b1) >>> this.shift;
    if (this.keys[slot] === key) return this.values[slot]!;
    const bytes = this.make(key);
    this.keys[slot] = key;
    this.values[slot] = bytes;
    return bytes;
  }
}

/** A string known to be ASCII (built from numbers and fixed text). */
export function writeAscii(buf: Uint8Array, pos: number, text: string): number {
  const n = text.length;
  for (let i = 0; i < n; i++) buf[pos + i] = text.charCodeAt(i);
  return pos + n;
}

const TRUE = ascii('true');
const FALSE = ascii('false');

export function writeBool(buf: Uint8Array, pos: number, value: boolean): number {
  return writeBytes(buf, pos, value ? TRUE : FALSE);
}

/** A number as JSON writes it: digits for a non-negative safe integer, String(n) otherwise. */
export function writeNumber(buf: Uint8Array, pos: number, n: number): number {
  if (n >= 0 && n < 10 && (n | 0) === n) {
    buf[pos] = 48 + n;
    return pos + 1;
  }
  if (!(n >= 0 && n <= Number.MAX_SAFE_INTEGER && Math.floor(n) === n)) return writeAscii(buf, pos, String(n));
  if (n < 0x80000000) {
    let x = n | 0;
    const digits =
      x < 100 ? 2 : x < 1000 ? 3 : x < 10000 ? 4 : x < 100000 ? 5 : x < 1000000 ? 6 : x < 10000000 ? 7 : x < 100000000 ? 8 : x < 1000000000 ? 9 : 10;
    let at = pos + digits;
    do {
      const q = (x / 10) | 0;
      buf[--at] = 48 + (x - q * 10);
      x = q;
    } while (x !== 0);
    return pos + digits;
  }
  let digits = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
  let at = pos + digits;
  let x = n;
  do {
    const q = Math.floor(x / 10);
    buf[--at] = 48 + (x - q * 10);
    x = q;
  } while (x !== 0);
  return pos + digits;
}

/** A number of exactly `width` digits, zero-padded (0 ≤ n < 10^width). */
export function writePadded(buf: Uint8Array, pos: number, n: number, width: number): number {
  if (n < 0x80000000) {
    // Integer division (a nanosecond of the second has 9 digits): Math.floor works on doubles.
    let x = n | 0;
    for (let at = pos + width - 1; at >= pos; at--) {
      const q = (x / 10) | 0;
      buf[at] = 48 + (x - q * 10);
      x = q;
    }
    return pos + width;
  }
  let x = n;
  for (let at = pos + width - 1; at >= pos; at--) {
    const q = Math.floor(x / 10);
    buf[at] = 48 + (x - q * 10);
    x = q;
  }
  return pos + width;
}

const HEX_DIGITS = ascii('0123456789abcdef');

function writeHexByte(buf: Uint8Array, pos: number, byte: number): void {
  buf[pos] = HEX_DIGITS[byte >>> 4]!;
  buf[pos + 1] = HEX_DIGITS[byte & 15]!;
}

/** formatMac(mac) in double quotes: "56:84:7a:fe:97:99". */
export function writeMacString(buf: Uint8Array, pos: number, mac: number): number {
  const hi = Math.floor(mac / 0x1_0000_0000);
  const lo = mac >>> 0;
  buf[pos] = 0x22;
  writeHexByte(buf, pos + 1, (hi >>> 8) & 0xff);
  buf[pos + 3] = 0x3a;
  writeHexByte(buf, pos + 4, hi & 0xff);
  buf[pos + 6] = 0x3a;
  writeHexByte(buf, pos + 7, lo >>> 24);
  buf[pos + 9] = 0x3a;
  writeHexByte(buf, pos + 10, (lo >>> 16) & 0xff);
  buf[pos + 12] = 0x3a;
  writeHexByte(buf, pos + 13, (lo >>> 8) & 0xff);
  buf[pos + 15] = 0x3a;
  writeHexByte(buf, pos + 16, lo & 0xff);
  buf[pos + 18] = 0x22;
  return pos + 19;
}

/** formatIpv4(ip) in double quotes: "10.244.1.2". */
export function writeIpv4String(buf: Uint8Array, pos: number, ip: number): number {
  buf[pos++] = 0x22;
  pos = writeNumber(buf, pos, ip >>> 24);
  buf[pos++] = 0x2e;
  pos = writeNumber(buf, pos, (ip >>> 16) & 0xff);
  buf[pos++] = 0x2e;
  pos = writeNumber(buf, pos, (ip >>> 8) & 0xff);
  buf[pos++] = 0x2e;
  pos = writeNumber(buf, pos, ip & 0xff);
  buf[pos] = 0x22;
  return pos + 1;
}

/** An array of numbers: [1,2,3]. */
export function writeNumberArray(buf: Uint8Array, pos: number, values: readonly number[]): number {
  buf[pos++] = 0x5b;
  for (let i = 0; i < values.length; i++) {
    if (i > 0) buf[pos++] = 0x2c;
    pos = writeNumber(buf, pos, values[i]!);
  }
  buf[pos] = 0x5d;
  return pos + 1;
}
