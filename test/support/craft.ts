import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/*
 * Byte-exact capture files for the edge cases the kernel lab does not produce: the other byte
 * order, odd time resolutions, several sections, corrupt lengths, files cut short.
 */

/** A fresh folder inside the test run's scratch folder (see scratch-root.ts), removed with it. */
export function scratchDir(prefix: string): string {
  return mkdtempSync(join(process.env.VXDUMP_TEST_SCRATCH ?? tmpdir(), prefix));
}

/** Writes bytes to a fresh temporary file and returns its path. */
export function tempCapture(name: string, bytes: Uint8Array): string {
  const path = join(scratchDir('capture-'), name);
  writeFileSync(path, bytes);
  return path;
}

/** A growing byte string with 8/16/32/64-bit writes in a chosen byte order. */
export class Bytes {
  private readonly parts: Buffer[] = [];

  constructor(readonly littleEndian = true) {}

  u8(value: number): this {
    this.parts.push(Buffer.from([value]));
    return this;
  }

  u16(value: number): this {
    const part = Buffer.alloc(2);
    if (this.littleEndian) part.writeUInt16LE(value);
    else part.writeUInt16BE(value);
    this.parts.push(part);
    return this;
  }

  u32(value: number): this {
    const part = Buffer.alloc(4);
    if (this.littleEndian) part.writeUInt32LE(value >>> 0);
    else part.writeUInt32BE(value >>> 0);
    this.parts.push(part);
    return this;
  }

  i64(value: bigint): this {
    const part = Buffer.alloc(8);
    if (this.littleEndian) part.writeBigInt64LE(value);
    else part.writeBigInt64BE(value);
    this.parts.push(part);
    return this;
  }

  raw(bytes: Uint8Array): this {
    this.parts.push(Buffer.from(bytes));
    return this;
  }

  padTo4(): this {
    const extra = (4 - (this.length % 4)) % 4;
    if (extra > 0) this.parts.push(Buffer.alloc(extra));
    return this;
  }

  get length(): number {
    return this.parts.reduce((sum, part) => sum + part.length, 0);
  }

  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** A recognisable frame body: `length` bytes counting up from `seed`. */
export function payload(length: number, seed = 0): Buffer {
  return Buffer.from(Array.from({ length }, (_, i) => (seed + i) & 0xff));
}

export interface PcapRecord {
  seconds: number;
  fraction: number;
  data: Uint8Array;
  originalLength?: number;
}

/** A classic pcap file. */
export function pcapFile(options: {
  littleEndian?: boolean;
  nanosecond?: boolean;
  linkType?: number;
  snapLength?: number;
  records: PcapRecord[];
}): Buffer {
  const out = new Bytes(options.littleEndian ?? true);
  out.u32(options.nanosecond ? 0xa1b23c4d : 0xa1b2c3d4).u16(2).u16(4).u32(0).u32(0);
  out.u32(options.snapLength ?? 262144).u32(options.linkType ?? 1);
  for (const record of options.records) {
    out.u32(record.seconds).u32(record.fraction).u32(record.data.length);
    out.u32(record.originalLength ?? record.data.length).raw(record.data);
  }
  return out.build();
}

/** One pcapng block: type, length, body (padded), length again. */
export function block(littleEndian: boolean, type: number, body: Uint8Array): Buffer {
  const padded = new Bytes(littleEndian).raw(body).padTo4().build();
  const length = 12 + padded.length;
  return new Bytes(littleEndian).u32(type).u32(length).raw(padded).u32(length).build();
}

export interface Option {
  code: number;
  value: Uint8Array;
}

function options(littleEndian: boolean, list: Option[]): Buffer {
  if (list.length === 0) return Buffer.alloc(0);
  const out = new Bytes(littleEndian);
  for (const option of list) out.u16(option.code).u16(option.value.length).raw(option.value).padTo4();
  return out.u16(0).u16(0).build();
}

export function sectionHeader(littleEndian: boolean, version: [number, number] = [1, 0]): Buffer {
  const body = new Bytes(littleEndian).u32(0x1a2b3c4d).u16(version[0]).u16(version[1]).i64(-1n).build();
  return block(littleEndian, 0x0a0d0d0a, body);
}

export function interfaceDescription(
  littleEndian: boolean,
  linkType: number,
  settings: { name?: string; tsresol?: number; tsoffset?: bigint; snapLength?: number } = {},
): Buffer {
  const list: Option[] = [];
  if (settings.name !== undefined) list.push({ code: 2, value: Buffer.from(settings.name) });
  if (settings.tsresol !== undefined) list.push({ code: 9, value: Buffer.from([settings.tsresol]) });
  if (settings.tsoffset !== undefined) list.push({ code: 14, value: new Bytes(littleEndian).i64(settings.tsoffset).build() });
  const body = new Bytes(littleEndian)
    .u16(linkType)
    .u16(0)
    .u32(settings.snapLength ?? 0)
    .raw(options(littleEndian, list))
    .build();
  return block(littleEndian, 1, body);
}

/** Enhanced Packet Block; the timestamp is a 64-bit tick count in the interface's resolution. */
export function enhancedPacket(
  littleEndian: boolean,
  interfaceId: number,
  ticks: bigint,
  data: Uint8Array,
  originalLength = data.length,
): Buffer {
  const body = new Bytes(littleEndian)
    .u32(interfaceId)
    .u32(Number(ticks >> 32n))
    .u32(Number(ticks & 0xffffffffn))
    .u32(data.length)
    .u32(originalLength)
    .raw(data)
    .padTo4()
    .build();
  return block(littleEndian, 6, body);
}

/**
 * Interface Statistics Block: taken at `ticks`, with the start and end of the capture (ticks,
 * high word first as the spec has timestamps) and counters, each given or left out.
 */
export function interfaceStatistics(
  littleEndian: boolean,
  interfaceId: number,
  ticks: bigint,
  values: { startTicks?: bigint; endTicks?: bigint; received?: bigint; interfaceDrops?: bigint; osDrops?: bigint } = {},
): Buffer {
  const time = (t: bigint) => new Bytes(littleEndian).u32(Number(t >> 32n)).u32(Number(t & 0xffffffffn)).build();
  const count = (n: bigint) => new Bytes(littleEndian).i64(n).build();
  const list: Option[] = [];
  if (values.startTicks !== undefined) list.push({ code: 2, value: time(values.startTicks) });
  if (values.endTicks !== undefined) list.push({ code: 3, value: time(values.endTicks) });
  if (values.received !== undefined) list.push({ code: 4, value: count(values.received) });
  if (values.interfaceDrops !== undefined) list.push({ code: 5, value: count(values.interfaceDrops) });
  if (values.osDrops !== undefined) list.push({ code: 7, value: count(values.osDrops) });
  const body = new Bytes(littleEndian)
    .u32(interfaceId)
    .raw(time(ticks))
    .raw(options(littleEndian, list))
    .build();
  return block(littleEndian, 5, body);
}

export function simplePacket(littleEndian: boolean, data: Uint8Array, originalLength = data.length): Buffer {
  return block(littleEndian, 3, new Bytes(littleEndian).u32(originalLength).raw(data).build());
}

/** The obsolete Packet Block (type 2) that old writers still produce. */
export function obsoletePacket(littleEndian: boolean, interfaceId: number, ticks: bigint, data: Uint8Array): Buffer {
  const body = new Bytes(littleEndian)
    .u16(interfaceId)
    .u16(0)
    .u32(Number(ticks >> 32n))
    .u32(Number(ticks & 0xffffffffn))
    .u32(data.length)
    .u32(data.length)
    .raw(data)
    .build();
  return block(littleEndian, 2, body);
}
