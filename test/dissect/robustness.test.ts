/**
 * The dissector never throws: random bytes on every link type, mutated real packets, and every
 * truncation length of every real packet (corpus, lab fixtures, crafted). Truncated frames keep
 * the layers they had room for and say which layer stopped, and that it was the snap length.
 */
import { describe, expect, test } from 'vitest';
import type { Frame } from '../../src/capture/frame.js';
import { LinkType } from '../../src/capture/linktypes.js';
import { createDissector, type Packet, packetToJson, packetToJsonText } from '../../src/dissect/index.js';
import { frame, primerEchoRequest } from './craft.js';
import { realFrames } from './samples.js';

const dissectors = [
  createDissector(),
  createDissector({ vxlanHeuristic: true, maxVxlanDepth: 2 }),
  createDissector({ verifyChecksums: false, vxlanPorts: [53, 80, 443, 4789] }),
];

/** A small deterministic PRNG (mulberry32), so a failure can be replayed. */
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

/**
 * Dissects with every dissector, checks the invariants, returns the default one's packet.
 * (Plain checks, not expect(): this runs a few hundred thousand times.)
 */
function check(f: Frame): Packet {
  let first: Packet | undefined;
  for (const dissect of dissectors) {
    const p = dissect(f);
    first ??= p;
    if (p.error !== null && p.error.message.includes('internal decoder error')) {
      throw new Error(`decoder bug on frame ${f.index} (${f.bytes.length} bytes): ${p.error.message}`);
    }
    for (const l of p.layers) {
      if (l.offset < 0 || l.offset + l.length > f.bytes.length) throw new Error(`layer ${l.protocol} outside the frame`);
    }
    if (JSON.stringify(packetToJson(p, 'fuzz')) !== packetToJsonText(p, 'fuzz')) {
      throw new Error(`frame ${f.index} (${f.bytes.length} bytes): packetToJsonText differs from packetToJson`);
    }
  }
  return first!;
}

/** Every length up to 2 KiB, then a sample: a BIG TCP frame has 80 000. */
function cutLengths(total: number): number[] {
  const lengths: number[] = [];
  for (let len = 0; len < total; len += len < 2048 ? 1 : 997) lengths.push(len);
  return lengths;
}

const LINK_TYPES = [
  LinkType.EN10MB, LinkType.LINUX_SLL, LinkType.LINUX_SLL2, LinkType.NULL, LinkType.LOOP, LinkType.RAW,
  LinkType.IPV4, LinkType.IPV6, 147,
];

describe('never an exception out of the dissector', () => {
  test('random bytes on every link type', () => {
    const rnd = random(20261122);
    for (const linkType of LINK_TYPES) {
      for (let i = 0; i < 3000; i++) {
        const bytes = new Uint8Array(Math.floor(rnd() * 160));
        for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rnd() * 256);
        check(frame(bytes, linkType));
      }
    }
  });

  test('real packets with random bytes changed (reaches the inner decoders)', { timeout: 60_000 }, () => {
    const rnd = random(7348);
    const seeds = realFrames();
    for (let i = 0; i < 30000; i++) {
      const seed = seeds[i % seeds.length]!;
      const bytes = Uint8Array.from(seed.bytes);
      const flips = 1 + Math.floor(rnd() * 4);
      for (let k = 0; k < flips; k++) bytes[Math.floor(rnd() * bytes.length)] = Math.floor(rnd() * 256);
      check({ ...seed, bytes, capturedLength: bytes.length });
    }
  });

  test('every truncation length of every real packet keeps a prefix of the layers', () => {
    const frames = realFrames();
    expect(frames.length).toBeGreaterThan(7);
    let cuts = 0;
    const problems: string[] = [];
    for (const f of frames) {
      const whole = dissectors[0]!(f);
      const full = whole.layers.map((l) => `${l.protocol}@${l.offset} `).join('');
      const fullError = whole.error;
      for (const len of cutLengths(f.bytes.length)) {
        const cut: Frame = { ...f, bytes: f.bytes.subarray(0, len), capturedLength: len, originalLength: Math.max(f.originalLength, f.bytes.length) };
        const p = check(cut);
        cuts++;
        const got = p.layers.map((l) => `${l.protocol}@${l.offset} `).join('');
        if (!full.startsWith(got)) problems.push(`frame ${f.index} cut at ${len}: layers ${got} are not a prefix of ${full}`);
        // A frame that decodes cleanly whole can only be "truncated" when cut, never malformed.
        if (fullError === null && p.error !== null && !p.error.truncated) {
          problems.push(`frame ${f.index} cut at ${len}: ${p.error.message} is not marked truncated`);
        }
      }
    }
    expect(problems.slice(0, 20)).toEqual([]);
    expect(cuts).toBeGreaterThan(1000);
  }, 120_000);
});

describe('truncation at every layer boundary of a VXLAN packet names the layer that stopped', () => {
  const bytes = primerEchoRequest();
  const dissect = createDissector();
  const cases: [number, string, string][] = [
    [0, 'eth', 'eth: header needs 14 bytes, 0 left at offset 0'],
    [14, 'ip', 'ipv4: header needs 20 bytes, 0 left at offset 14'],
    [30, 'ip', 'ipv4: header needs 20 bytes, 16 left at offset 14'],
    [34, 'udp', 'udp: header needs 8 bytes, 0 left at offset 34'],
    [42, '', ''], // UDP header whole, no payload captured: nothing to decode, nothing wrong
    [45, 'vxlan', 'vxlan: header needs 8 bytes, 3 left at offset 42'],
    [50, 'eth', 'eth: header needs 14 bytes, 0 left at offset 50'],
    [64, 'ip', 'ipv4: header needs 20 bytes, 0 left at offset 64'],
    [84, 'icmp', 'icmp: header needs 8 bytes, 0 left at offset 84'],
    [100, '', ''],
  ];
  for (const [len, layer, message] of cases) {
    test(`cut at ${len}`, () => {
      const p = dissect(frame(bytes.subarray(0, len), LinkType.EN10MB, bytes.length));
      if (layer === '') {
        expect(p.error).toBeNull();
      } else {
        expect(p.error).toEqual({ layer, offset: Number(/offset (\d+)/.exec(message)![1]), message, truncated: true });
        expect(p.layers.every((l) => l.offset + l.length <= len)).toBe(true);
      }
    });
  }

  test('the same cut in a frame that was not snapped is malformed, not truncated', () => {
    const p = dissect(frame(bytes.subarray(0, 64)));
    expect(p.error?.truncated).toBe(false);
  });
});
