import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CaptureError, formatWarning } from '../../src/capture/errors.js';
import type { Frame } from '../../src/capture/frame.js';
import { LinkType } from '../../src/capture/linktypes.js';
import { openCapture, type OpenCaptureOptions } from '../../src/capture/open.js';
import { PcapngReader } from '../../src/capture/pcapng.js';
import { PcapngWriter, PcapWriter } from '../../src/capture/writer.js';
import {
  block,
  Bytes,
  enhancedPacket,
  interfaceDescription,
  obsoletePacket,
  payload,
  pcapFile,
  sectionHeader,
  simplePacket,
  tempCapture,
} from '../support/craft.js';

interface ReadResult {
  frames: (Omit<Frame, 'bytes'> & { bytes: Buffer })[];
  warnings: string[];
  error?: CaptureError;
}

/** Reads a whole capture, copying each frame (the reader reuses its buffer). */
function readAll(path: string, options?: OpenCaptureOptions): ReadResult {
  const capture = openCapture(path, options);
  const frames: ReadResult['frames'] = [];
  try {
    for (const frame of capture) {
      frames.push({
        index: frame.index,
        timestampNs: frame.timestampNs,
        capturedLength: frame.capturedLength,
        originalLength: frame.originalLength,
        linkType: frame.linkType,
        interfaceId: frame.interfaceId,
        interfaceName: frame.interfaceName,
        bytes: Buffer.from(frame.bytes),
      });
    }
  } catch (error) {
    if (!(error instanceof CaptureError)) throw error;
    return { frames, warnings: capture.warnings.map(formatWarning), error };
  }
  return { frames, warnings: capture.warnings.map(formatWarning) };
}

const T0 = 1_763_784_553; // 2025-11-22T04:09:13Z, seconds

describe('classic pcap', () => {
  const records = [
    { seconds: T0, fraction: 123456, data: payload(60, 1) },
    { seconds: T0 + 1, fraction: 999999, data: payload(98, 2), originalLength: 1514 },
  ];

  it.each([
    ['little-endian microseconds', true, false],
    ['big-endian microseconds', false, false],
    ['little-endian nanoseconds', true, true],
    ['big-endian nanoseconds', false, true],
  ])('reads %s', (_name, littleEndian, nanosecond) => {
    const path = tempCapture('x.pcap', pcapFile({ littleEndian, nanosecond, linkType: LinkType.LINUX_SLL2, records }));
    const { frames, warnings } = readAll(path);
    expect(warnings).toEqual([]);
    expect(frames.map((f) => f.index)).toEqual([1, 2]);
    const unit = nanosecond ? 1n : 1000n;
    expect(frames[0]!.timestampNs).toBe(BigInt(T0) * 1_000_000_000n + 123456n * unit);
    expect(frames[1]!.timestampNs).toBe(BigInt(T0 + 1) * 1_000_000_000n + 999999n * unit);
    expect(frames[1]!.capturedLength).toBe(98);
    expect(frames[1]!.originalLength).toBe(1514); // snapped
    expect(frames[1]!.bytes).toEqual(payload(98, 2));
    expect(frames.every((f) => f.linkType === LinkType.LINUX_SLL2 && f.interfaceId === 0)).toBe(true);
  });

  it('reads records split across read chunks, and records larger than a chunk', () => {
    const many = Array.from({ length: 200 }, (_, i) => ({ seconds: T0, fraction: i, data: payload(1 + ((i * 37) % 300), i) }));
    many.push({ seconds: T0, fraction: 500, data: payload(5000, 7) });
    const path = tempCapture('split.pcap', pcapFile({ records: many }));
    const { frames } = readAll(path, { chunkSize: 64 });
    expect(frames).toHaveLength(201);
    frames.forEach((frame, i) => expect(frame.bytes).toEqual(Buffer.from(many[i]!.data)));
  });

  it('keeps the link type from the low 26 bits when FCS bits are set', () => {
    const bytes = pcapFile({ records: [{ seconds: T0, fraction: 0, data: payload(20) }] });
    bytes.writeUInt32LE(0x14000001, 20); // FCS present, 4 bytes, on EN10MB
    expect(readAll(tempCapture('fcs.pcap', bytes)).frames[0]!.linkType).toBe(LinkType.EN10MB);
  });

  it('carries an unknown link type through to each frame', () => {
    const path = tempCapture('lt.pcap', pcapFile({ linkType: 147, records: [{ seconds: T0, fraction: 0, data: payload(8) }] }));
    expect(readAll(path).frames[0]!.linkType).toBe(147);
  });

  it('delivers every complete frame of a file cut mid-record, then warns with offset and frame', () => {
    const whole = pcapFile({ records: [0, 1, 2].map((i) => ({ seconds: T0, fraction: i, data: payload(100, i) })) });
    for (const cut of [24 + 116 * 2 + 5, 24 + 116 * 2 + 16 + 50]) {
      const { frames, warnings, error } = readAll(tempCapture('cut.pcap', whole.subarray(0, cut)));
      expect(error).toBeUndefined();
      expect(frames.map((f) => f.index)).toEqual([1, 2]);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/file ends in the middle of a record/);
    }
    const capture = openCapture(tempCapture('cut.pcap', whole.subarray(0, 24 + 116 + 3)));
    [...capture];
    expect(capture.warnings[0]!.location).toEqual({ frame: 2, offset: 140 });
  });

  it('stops with a clear error at an absurd record length, without allocating it', () => {
    const bytes = pcapFile({ records: [{ seconds: T0, fraction: 0, data: payload(10) }, { seconds: T0, fraction: 1, data: payload(10) }] });
    bytes.writeUInt32LE(0x7fffffff, 24 + 26 + 8);
    const { frames, error } = readAll(tempCapture('huge.pcap', bytes));
    expect(frames).toHaveLength(1);
    expect(error?.message).toMatch(/huge\.pcap: frame 2, byte offset 50: record claims 2147483647 captured bytes/);
  });

  it('warns once about a fraction of a second that is out of range, and carries it', () => {
    const path = tempCapture('frac.pcap', pcapFile({ records: [{ seconds: T0, fraction: 1_500_000, data: payload(4) }] }));
    const { frames, warnings } = readAll(path);
    expect(frames[0]!.timestampNs).toBe(BigInt(T0 + 1) * 1_000_000_000n + 500_000_000n);
    expect(warnings[0]).toMatch(/1500000 microseconds past the second/);
  });
});

describe('pcapng', () => {
  it.each([
    ['little-endian', true],
    ['big-endian', false],
  ])('reads %s sections with per-interface link types, names and resolutions', (_name, le) => {
    const bytes = Buffer.concat([
      sectionHeader(le),
      interfaceDescription(le, LinkType.EN10MB, { name: 'br0' }), // default 10^-6
      interfaceDescription(le, LinkType.LINUX_SLL2, { name: 'any', tsresol: 9 }),
      interfaceDescription(le, LinkType.RAW, { name: 'tun0', tsresol: 0x80 | 20 }), // 2^-20 s
      interfaceDescription(le, LinkType.EN10MB, { name: 'eth0', tsresol: 3, tsoffset: 100n }), // ms, +100 s
      enhancedPacket(le, 0, BigInt(T0) * 1_000_000n + 654_321n, payload(60, 1)),
      enhancedPacket(le, 1, BigInt(T0) * 1_000_000_000n + 987_654_321n, payload(61, 2), 1500),
      enhancedPacket(le, 2, (BigInt(T0) << 20n) + 3n, payload(62, 3)),
      enhancedPacket(le, 3, BigInt(T0) * 1000n + 7n, payload(63, 4)),
    ]);
    const { frames, warnings } = readAll(tempCapture('multi.pcapng', bytes));
    expect(warnings).toEqual([]);
    expect(frames.map((f) => [f.interfaceId, f.interfaceName, f.linkType, f.capturedLength])).toEqual([
      [0, 'br0', LinkType.EN10MB, 60],
      [1, 'any', LinkType.LINUX_SLL2, 61],
      [2, 'tun0', LinkType.RAW, 62],
      [3, 'eth0', LinkType.EN10MB, 63],
    ]);
    const base = BigInt(T0) * 1_000_000_000n;
    expect(frames[0]!.timestampNs).toBe(base + 654_321_000n);
    expect(frames[1]!.timestampNs).toBe(base + 987_654_321n);
    expect(frames[1]!.originalLength).toBe(1500);
    // 3 ticks of 2^-20 s = 2861.02... ns, rounded down as Wireshark does.
    expect(frames[2]!.timestampNs).toBe(base + 2861n);
    expect(frames[3]!.timestampNs).toBe(base + 100_000_000_000n + 7_000_000n);
    expect(frames[3]!.bytes).toEqual(payload(63, 4));
  });

  it('reads several sections, the second in the other byte order, numbering interfaces per section', () => {
    const bytes = Buffer.concat([
      sectionHeader(true),
      interfaceDescription(true, LinkType.EN10MB, { name: 'node1-eth0' }),
      enhancedPacket(true, 0, 1n, payload(20, 1)),
      sectionHeader(false),
      interfaceDescription(false, LinkType.LINUX_SLL, { name: 'node2-any', tsresol: 9 }),
      enhancedPacket(false, 0, 2n, payload(21, 2)),
    ]);
    const capture = openCapture(tempCapture('sections.pcapng', bytes));
    const frames = [...capture].map((f) => [f.index, f.interfaceId, f.interfaceName, f.linkType, f.timestampNs]);
    expect(frames).toEqual([
      [1, 0, 'node1-eth0', LinkType.EN10MB, 1000n],
      [2, 0, 'node2-any', LinkType.LINUX_SLL, 2n],
    ]);
    const reader = capture.details as PcapngReader;
    expect(reader.interfaces.map((i) => [i.section, i.id, i.name])).toEqual([
      [0, 0, 'node1-eth0'],
      [1, 0, 'node2-any'],
    ]);
  });

  it('reads Simple and obsolete Packet blocks, skips other blocks, and counts custom blocks as Wireshark does', () => {
    const le = true;
    const bytes = Buffer.concat([
      sectionHeader(le),
      interfaceDescription(le, LinkType.EN10MB, { snapLength: 64 }),
      block(le, 4, new Bytes(le).u16(1).u16(8).raw(Buffer.from([10, 0, 0, 1, 104, 111, 115, 116])).u16(0).u16(0).build()), // NRB
      simplePacket(le, payload(64, 1), 1000), // snapped to the interface's 64 bytes
      block(le, 0x00000bad, new Bytes(le).u32(32473).raw(Buffer.from('custom')).build()),
      obsoletePacket(le, 0, 5_000_000n, payload(30, 2)),
      block(le, 5, new Bytes(le).u32(0).u32(0).u32(0).build()), // ISB
      block(le, 0x12345678, payload(16)), // unknown
      enhancedPacket(le, 0, 6_000_000n, payload(10, 3)),
    ]);
    const { frames, warnings } = readAll(tempCapture('blocks.pcapng', bytes));
    expect(warnings).toEqual([]);
    expect(frames.map((f) => [f.index, f.capturedLength, f.originalLength, f.timestampNs])).toEqual([
      [1, 64, 1000, 0n], // a Simple Packet Block has no timestamp
      [3, 30, 30, 5_000_000_000n], // frame 2 is the custom block
      [4, 10, 10, 6_000_000_000n],
    ]);
  });

  it('rounds up unpadded block lengths from old NTAR writers, with one warning', () => {
    const le = true;
    const epb = enhancedPacket(le, 0, 1n, payload(62));
    const declared = epb.length - 2; // claim 62 data bytes without the 2 padding bytes
    epb.writeUInt32LE(declared, 4);
    epb.writeUInt32LE(declared, epb.length - 4);
    const bytes = Buffer.concat([sectionHeader(le), interfaceDescription(le, 1), epb, epb]);
    const { frames, warnings } = readAll(tempCapture('ntar.pcapng', bytes));
    expect(frames).toHaveLength(2);
    expect(warnings).toEqual([expect.stringMatching(/not a multiple of 4 .* read as 96, as Wireshark does/)]);
  });

  describe('corrupt blocks stop reading with an error at that block, after the frames before it', () => {
    const le = true;
    const good = enhancedPacket(le, 0, 1n, payload(40));
    const head = Buffer.concat([sectionHeader(le), interfaceDescription(le, 1), good]);
    const corrupt = (mutate: (b: Buffer) => void) => {
      const bad = Buffer.from(good);
      mutate(bad);
      return tempCapture('corrupt.pcapng', Buffer.concat([head, bad, good]));
    };
    it.each([
      ['zero length', (b: Buffer) => b.writeUInt32LE(0, 4), /block 4, byte offset 120: block 0x00000006 has total length 0, less than the minimum of 12/],
      ['trailer mismatch', (b: Buffer) => b.writeUInt32LE(999, b.length - 4), /total block lengths \(first 72 and second 999\) don't match/],
      ['length past the end', (b: Buffer) => b.writeUInt32LE(0x00fffff0, 4), /total block lengths|file ends/],
      ['absurd length', (b: Buffer) => b.writeUInt32LE(0x7ffffff0, 4), /claims 2147483632 bytes/],
      ['captured length larger than the block', (b: Buffer) => b.writeUInt32LE(4000, 20), /says 4000 captured bytes but has room for 40/],
      ['unknown interface', (b: Buffer) => b.writeUInt32LE(3, 8), /refers to interface 3, but its section describes only interface 0$/],
    ])('%s', (_name, mutate, message) => {
      const path = corrupt(mutate);
      const { frames, error, warnings } = readAll(path);
      expect(frames).toHaveLength(1);
      const said = error?.message ?? warnings.join('\n');
      expect(said).toMatch(message);
      expect(said).toContain('corrupt.pcapng');
    });
  });

  it('refuses a section version it does not know', () => {
    const bytes = Buffer.concat([sectionHeader(true, [2, 0]), interfaceDescription(true, 1)]);
    expect(() => [...openCapture(tempCapture('v2.pcapng', bytes))]).toThrow(/unsupported pcapng section version 2\.0/);
  });

  it('delivers the frames before a cut and warns', () => {
    const le = false;
    const bytes = Buffer.concat([sectionHeader(le), interfaceDescription(le, 1), enhancedPacket(le, 0, 1n, payload(40)), enhancedPacket(le, 0, 2n, payload(40))]);
    const { frames, warnings } = readAll(tempCapture('cut.pcapng', bytes.subarray(0, bytes.length - 10)));
    expect(frames).toHaveLength(1);
    expect(warnings[0]).toMatch(/file ends in the middle of a block \(62 of 72 bytes present\); 1 complete frames were read/);
  });
});

describe('opening', () => {
  it.each([
    ['a missing file', () => '/nonexistent/x.pcap', /\/nonexistent\/x\.pcap: no such file/],
    ['a directory', () => tempCapture('d', Buffer.alloc(0)).replace(/\/d$/, ''), /is a directory/],
    ['an empty file', () => tempCapture('e.pcap', Buffer.alloc(0)), /e\.pcap: is empty/],
    ['a text file', () => tempCapture('t.pcap', Buffer.from('hello world')), /not a pcap or pcapng capture \(starts with 0x68656c6c\)/],
    ['a file shorter than a pcap header', () => tempCapture('s.pcap', Buffer.from([0xd4, 0xc3, 0xb2, 0xa1, 2])), /pcap file header is cut short/],
  ])('rejects %s with a CaptureError naming it', (_name, path, message) => {
    expect(() => openCapture(path())).toThrow(CaptureError);
    expect(() => openCapture(path())).toThrow(message);
  });
});

describe('writers', () => {
  it('write pcap (µs and ns) and pcapng that read back identically, and never overwrite', () => {
    const frames = [0, 1, 2].map((i) => ({
      timestampNs: BigInt(T0) * 1_000_000_000n + BigInt(i) * 1_000_123_457n,
      bytes: payload(50 + i * 700, i),
      originalLength: 50 + i * 700,
    }));
    const dir = tempCapture('placeholder', Buffer.alloc(0)).replace(/placeholder$/, '');
    const paths = { us: `${dir}us.pcap`, ns: `${dir}ns.pcap`, ng: `${dir}x.pcapng` };
    const us = new PcapWriter(paths.us, { linkType: 1 });
    const ns = new PcapWriter(paths.ns, { linkType: 1, nanosecond: true });
    const ng = new PcapngWriter(paths.ng);
    const eth0 = ng.addInterface({ linkType: 1, name: 'eth0' });
    for (const frame of frames) {
      us.write(frame);
      ns.write(frame);
      ng.write(frame, eth0);
    }
    [us, ns, ng].forEach((writer) => writer.close());

    expect(readAll(paths.ns).frames.map((f) => f.timestampNs)).toEqual(frames.map((f) => f.timestampNs));
    expect(readAll(paths.ng).frames.map((f) => [f.timestampNs, f.interfaceName])).toEqual(frames.map((f) => [f.timestampNs, 'eth0']));
    expect(readAll(paths.us).frames.map((f) => f.timestampNs)).toEqual(frames.map((f) => (f.timestampNs / 1000n) * 1000n));
    expect(readAll(paths.ng).frames.map((f) => f.bytes)).toEqual(frames.map((f) => Buffer.from(f.bytes)));

    const before = readFileSync(paths.us);
    expect(() => new PcapWriter(paths.us, { linkType: 1 })).toThrow(/already exists \(not overwritten\)/);
    expect(readFileSync(paths.us)).toEqual(before);
  });
});

describe('standard input', () => {
  it('reads a capture piped into the CLI as "-"', () => {
    const path = tempCapture('pipe.pcap', pcapFile({ records: [{ seconds: T0, fraction: 0, data: payload(60) }] }));
    const result = spawnSync('sh', ['-c', `cat ${path} | node bin/vxdump analyze - --format ndjson`], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    const line = JSON.parse(result.stdout.trim().split('\n')[0]!);
    expect(line.file).toBe('-');
    expect(line.frame.timestampNs).toBe(`${T0}000000000`);
  });
});

