/**
 * writePacketJson (bytes straight into the output buffer, the ndjson/json fast path) writes
 * exactly the UTF-8 of packetToJsonText: on every real, crafted and damaged packet, on every
 * truncation of them and on mutated copies, with each dissector configuration, whatever the
 * file name, interface name and time, and across output buffer boundaries.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import type { Frame } from '../../src/capture/frame.js';
import { createDissector, packetToJsonText } from '../../src/dissect/index.js';
import type { JsonSink } from '../../src/dissect/json-bytes.js';
import { writeNumber } from '../../src/dissect/json-bytes.js';
import { writePacketJson } from '../../src/dissect/json.js';
import { framesOf, realFrames } from './samples.js';

/** A sink with a small buffer that keeps what it flushes. */
class CollectingSink implements JsonSink {
  bytes: Uint8Array;
  used = 0;
  private readonly parts: Buffer[] = [];

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
  }

  reserve(bytes: number): void {
    if (this.used + bytes <= this.bytes.length) return;
    this.parts.push(Buffer.from(this.bytes.subarray(0, this.used)));
    this.used = 0;
    if (bytes > this.bytes.length) this.bytes = new Uint8Array(bytes);
  }

  text(text: string): void {
    const encoded = Buffer.from(text, 'utf8');
    this.reserve(encoded.length);
    this.bytes.set(encoded, this.used);
    this.used += encoded.length;
  }

  take(): Buffer {
    const all = Buffer.concat([...this.parts, Buffer.from(this.bytes.subarray(0, this.used))]);
    this.parts.length = 0;
    this.used = 0;
    return all;
  }
}

function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const golden = (name: string) => framesOf(fileURLToPath(new URL(`../golden/${name}`, import.meta.url)));

describe('writePacketJson = UTF-8 of packetToJsonText', () => {
  const base = [...realFrames(), ...golden('bench-200.pcap'), ...golden('damaged-200.pcap')];
  const next = random(42);
  const frames: Frame[] = [...base];
  for (const f of base) {
    // A few truncations and a few mutated copies of each.
    for (const cut of [14, 34, 42, 50, 64, 84, 98, 120]) {
      if (cut < f.bytes.length) frames.push({ ...f, bytes: f.bytes.subarray(0, cut), capturedLength: cut });
    }
    const mutated = Uint8Array.from(f.bytes);
    for (let k = 0; k < 4 && mutated.length > 0; k++) mutated[Math.floor(next() * mutated.length)] = Math.floor(next() * 256);
    frames.push({ ...f, bytes: mutated });
  }
  const configurations = {
    default: createDissector(),
    heuristic: createDissector({ vxlanHeuristic: true, maxVxlanDepth: 1 }),
    'no checksums, port 53 and 8472': createDissector({ vxlanPorts: [53, 8472], verifyChecksums: false }),
  };
  for (const [name, dissect] of Object.entries(configurations)) {
    test(name, () => {
      const sink = new CollectingSink(3000); // smaller than some packets: reserve() flushes mid-packet
      const differing: string[] = [];
      for (const f of frames) {
        const p = dissect(f);
        for (const file of ['node1-eth0.pcap', 'dir/ünïcode "quoted" \\ file.pcap']) {
          writePacketJson(sink, p, file);
          const bytes = sink.take();
          const expected = Buffer.from(packetToJsonText(p, file), 'utf8');
          if (!bytes.equals(expected)) differing.push(`frame ${f.index}:\n${expected.toString()}\n${bytes.toString()}`);
        }
      }
      expect(differing.slice(0, 3)).toEqual([]);
      expect(frames.length).toBeGreaterThan(1000);
    });
  }

  test('any time (before 1970, at 0, far ahead), interface name and link type', () => {
    const dissect = createDissector();
    const sink = new CollectingSink(1 << 16);
    const [f] = base;
    const times = [0n, 1n, 999_999_999n, 1_000_000_000n, -1n, -1_000_000_001n, 1_795_322_249_642_695_123n, 253_402_300_799_999_999_999n];
    for (const timestampNs of times) {
      for (const interfaceName of [undefined, 'eth0', 'ünï "x"']) {
        for (const linkType of [1, 147, 276]) {
          const frame = { ...f!, timestampNs, interfaceName, interfaceId: 3, linkType } as Frame;
          const p = dissect(frame);
          writePacketJson(sink, p, 'a.pcap');
          expect(sink.take().toString('utf8')).toBe(packetToJsonText(p, 'a.pcap'));
        }
      }
    }
  });

  test('writeNumber writes what a template string does (String(n))', () => {
    const buf = new Uint8Array(64);
    for (const n of [0, 1, 9, 10, 99, 100, 65535, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 1e21, -1, -0, 1.5, NaN]) {
      const end = writeNumber(buf, 0, n);
      expect(Buffer.from(buf.subarray(0, end)).toString(), String(n)).toBe(String(n));
    }
  });
});
