/**
 * Big-endian reads at an offset of a Uint8Array: the hot path of every decoder.
 *
 * Plain index reads instead of a DataView: creating a DataView per frame is an allocation, and
 * V8 compiles these shifts to a couple of instructions. Callers check the length first; a read
 * past the end yields undefined, which the bit operators turn into 0, never an exception.
 */

export function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

export function u24(b: Uint8Array, o: number): number {
  return (b[o]! << 16) | (b[o + 1]! << 8) | b[o + 2]!;
}

/** Unsigned 32-bit value (0 … 2^32-1), not the signed int32 that `<<` would give. */
export function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** Unsigned 32-bit little-endian value (DLT_NULL families written on little-endian hosts). */
export function u32le(b: Uint8Array, o: number): number {
  return ((b[o + 3]! << 24) | (b[o + 2]! << 16) | (b[o + 1]! << 8) | b[o]!) >>> 0;
}

/**
 * A MAC address as one number (48 bits fit exactly in a double): comparable, usable as a Map key,
 * and free of string building until something prints it.
 */
export function mac48(b: Uint8Array, o: number): number {
  return ((b[o]! << 8) | b[o + 1]!) * 0x1_0000_0000 + u32(b, o + 2);
}
