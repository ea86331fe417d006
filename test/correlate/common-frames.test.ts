import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaptureError } from '../../src/capture/errors.js';
import type { Frame } from '../../src/capture/frame.js';
import { LinkType } from '../../src/capture/linktypes.js';
import { openCapture } from '../../src/capture/open.js';
import { CommonFrames } from '../../src/correlate/common-frames.js';
import { SightingStore } from '../../src/correlate/sighting.js';
import { createDissector, DEFAULT_VXLAN_PORTS } from '../../src/dissect/index.js';
import { CORPUS_DIR, corpusAvailable, corpusIndex } from '../support/corpus.js';
import { FIXTURES } from './support.js';

/*
 * A common frame's sighting is read from its bytes (common-frames.ts) instead of the dissector's
 * layers (SightingStore.addAt). The two must agree on every field of every frame the common path
 * takes: here on every frame of the lab fixtures and the peer corpus, under the VXLAN settings
 * trace is run with. Frames it does not take go through the dissector, so for them only the
 * refusal matters, which the crafted frames below check one reason at a time.
 */

interface Settings {
  name: string;
  vxlanPorts: readonly number[];
  vxlanHeuristic: boolean;
}

const SETTINGS: readonly Settings[] = [
  { name: 'the default ports', vxlanPorts: DEFAULT_VXLAN_PORTS, vxlanHeuristic: false },
  { name: 'ports 4789, 8472 and 4899', vxlanPorts: [4789, 8472, 4899], vxlanHeuristic: false },
  { name: 'port 8472 and the heuristic', vxlanPorts: [8472], vxlanHeuristic: true },
];

interface Tally {
  frames: number;
  common: number;
  tunnelled: number;
  byProtocol: Map<number, number>;
}

const newTally = (): Tally => ({ frames: 0, common: 0, tunnelled: 0, byProtocol: new Map() });

/** Decodes every frame of `file` both ways under `settings` and compares the sightings of the common ones. */
function compareFile(file: string, settings: Settings, tally: Tally): void {
  const dissect = createDissector({ vxlanPorts: settings.vxlanPorts, vxlanHeuristic: settings.vxlanHeuristic, verifyChecksums: false });
  const common = new CommonFrames(settings.vxlanPorts, settings.vxlanHeuristic);
  const byDissector = new SightingStore(1);
  const byBytes = new SightingStore(1);
  const slot = byDissector.take();
  byBytes.take();
  const reader = openCapture(file);
  try {
    for (let frame = reader.next(); frame !== null; frame = reader.next()) {
      tally.frames += 1;
      const timeNs = frame.index * 1000;
      if (!common.decode(byBytes, slot, frame, 3, timeNs)) continue;
      tally.common += 1;
      expect(byDissector.addAt(slot, dissect(frame), 3, timeNs), `${file} frame ${frame.index}`).toBe(true);
      expect(byBytes.snapshot(slot), `${file} frame ${frame.index} (${settings.name})`).toEqual(byDissector.snapshot(slot));
      if (byBytes.vni[slot] !== -1) tally.tunnelled += 1;
      const proto = byBytes.proto[slot]!;
      tally.byProtocol.set(proto, (tally.byProtocol.get(proto) ?? 0) + 1);
    }
  } catch (error) {
    // A damaged capture: the frames before the damage were compared.
    if (!(error instanceof CaptureError)) throw error;
  } finally {
    reader.close();
  }
}

function fixtureFiles(): string[] {
  const files: string[] = [];
  for (const scenario of readdirSync(FIXTURES, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    const dir = join(FIXTURES, scenario.name);
    for (const file of readdirSync(dir).filter((f) => /\.pcap(ng)?$/.test(f))) files.push(join(dir, file));
  }
  return files;
}

describe('a common frame decoded from its bytes', () => {
  for (const settings of SETTINGS) {
    it(`has the dissector's sighting on every lab fixture (${settings.name})`, () => {
      const tally = newTally();
      for (const file of fixtureFiles()) compareFile(file, settings, tally);
      // Most fixture frames are common: TCP and ICMP echoes, bare and inside VXLAN (700 of 932).
      expect(tally.common).toBeGreaterThan(tally.frames / 2);
      expect(tally.byProtocol.get(6)).toBeGreaterThan(0);
      expect(tally.byProtocol.get(1)).toBeGreaterThan(0);
      expect(tally.tunnelled).toBeGreaterThan(100);
    });
  }

  it.skipIf(!corpusAvailable())('has the dissector\'s sighting on every capture of the peer corpus', () => {
    for (const settings of SETTINGS) {
      const tally = newTally();
      for (const entry of corpusIndex()) compareFile(join(CORPUS_DIR, entry.relpath), settings, tally);
      // With the default ports, 2377 of 12792 frames: 1065 TCP, 1066 UDP, 68 ICMP, 157 in VXLAN.
      expect(tally.common).toBeGreaterThan(1000);
      expect(tally.byProtocol.get(6)).toBeGreaterThan(500);
      // With the heuristic, UDP off the ports is the dissector's, and most of the corpus's VXLAN is on 4789.
      expect(tally.tunnelled).toBeGreaterThan(settings.vxlanHeuristic ? 0 : 100);
      if (!settings.vxlanHeuristic) expect(tally.byProtocol.get(17)).toBeGreaterThan(500);
      // Protocols the dissector has no decoder for (GRE, ESP, ...) are common frames too.
      expect([...tally.byProtocol.keys()].filter((proto) => proto !== 1 && proto !== 6 && proto !== 17).length).toBeGreaterThan(0);
    }
  });
});

describe('a damaged common frame', () => {
  /** A small deterministic generator (xorshift32), so that a failure can be run again. */
  function generator(seed: number): () => number {
    let state = seed | 0 || 1;
    return () => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) / 0x1_0000_0000;
    };
  }

  /**
   * Every common frame of `files`, with one of its first 120 bytes (the headers, outer and
   * inner) set to another value, many times over: lengths that no longer fit, other protocols,
   * flags, VXLAN ports, fragments. Where the common path still takes the frame, its sighting
   * must be the dissector's; else the dissector decides. Returns the frames damaged and those
   * still taken.
   */
  function damageEach(files: readonly string[], seed: number): { damaged: number; stillTaken: number } {
    const random = generator(seed);
    const dissect = createDissector({ vxlanPorts: DEFAULT_VXLAN_PORTS, verifyChecksums: false });
    const common = new CommonFrames(DEFAULT_VXLAN_PORTS, false);
    const byDissector = new SightingStore(1);
    const byBytes = new SightingStore(1);
    const slot = byDissector.take();
    byBytes.take();
    let damaged = 0;
    let stillTaken = 0;
    for (const file of files) {
      const reader = openCapture(file);
      try {
        for (let frame = reader.next(); frame !== null; frame = reader.next()) {
          if (!common.decode(byBytes, slot, frame, 0, 0)) continue;
          for (let round = 0; round < 20; round++) {
            const bytes = Uint8Array.from(frame.bytes);
            const at = Math.floor(random() * Math.min(120, bytes.length));
            // Neighbouring values (a length one off, a flag bit) as often as any other value.
            bytes[at] = random() < 0.5 ? Math.floor(random() * 256) : (bytes[at]! + (random() < 0.5 ? 1 : -1)) & 0xff;
            const copy = { ...frame, bytes };
            damaged += 1;
            if (!common.decode(byBytes, slot, copy, 0, 0)) continue;
            stillTaken += 1;
            byDissector.addAt(slot, dissect(copy), 0, 0);
            expect(byBytes.snapshot(slot), `${file} frame ${frame.index}, byte ${at} set to ${bytes[at]}`).toEqual(byDissector.snapshot(slot));
          }
        }
      } catch (error) {
        if (!(error instanceof CaptureError)) throw error;
      } finally {
        reader.close();
      }
    }
    return { damaged, stillTaken };
  }

  it("has the dissector's sighting, or goes to the dissector, whatever header byte is changed (lab fixtures)", () => {
    const { damaged, stillTaken } = damageEach(fixtureFiles(), 5);
    expect(damaged).toBeGreaterThan(10_000);
    // Most changed bytes are addresses, ports, IDs or payload: still common frames.
    expect(stillTaken).toBeGreaterThan(damaged / 2);
    expect(stillTaken).toBeLessThan(damaged);
  });

  it.skipIf(!corpusAvailable())("has the dissector's sighting, or goes to the dissector, whatever header byte is changed (peer corpus)", () => {
    const { damaged, stillTaken } = damageEach(corpusIndex().map((entry) => join(CORPUS_DIR, entry.relpath)), 7);
    expect(damaged).toBeGreaterThan(40_000);
    expect(stillTaken).toBeGreaterThan(damaged / 2);
  });
});

describe('a frame that is not common', () => {
  /** Ethernet, IPv4 10.0.0.1 → 10.0.0.2 and an ICMP echo request, or the IPv4 payload given. */
  function plainFrame(edit: (bytes: Uint8Array) => void = () => {}, payload = [8, 0, 0, 0, 0, 1, 0, 1]): Uint8Array {
    const ip = [0x45, 0, 0, 20 + payload.length, 0, 7, 0x40, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
    const bytes = Uint8Array.from([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00, ...ip, ...payload]);
    edit(bytes);
    return bytes;
  }

  /** The same echo request inside VXLAN from 192.168.0.1:40000 to 192.168.0.2:`port`. */
  function tunnelledFrame(port: number, edit: (bytes: Uint8Array) => void = () => {}): Uint8Array {
    const inner = plainFrame();
    const udpLength = 8 + 8 + inner.length;
    const outerIp = [0x45, 0, 0, 20 + udpLength, 0, 9, 0, 0, 64, 17, 0, 0, 192, 168, 0, 1, 192, 168, 0, 2];
    const udp = [40000 >> 8, 40000 & 0xff, port >> 8, port & 0xff, 0, udpLength, 0, 0];
    const vxlan = [0x08, 0, 0, 0, 0, 0, 11, 0];
    const bytes = Uint8Array.from([2, 0, 0, 0, 0, 4, 2, 0, 0, 0, 0, 3, 0x08, 0x00, ...outerIp, ...udp, ...vxlan, ...inner]);
    edit(bytes);
    return bytes;
  }

  /** 20 bytes of TCP header whose data offset byte is `dataOffset` (0x50: 20 bytes). */
  function tcpHeader(dataOffset: number): number[] {
    return [0, 80, 0, 81, 0, 0, 0, 1, 0, 0, 0, 0, dataOffset, 0x10, 0, 0, 0, 0, 0, 0];
  }

  function frameOf(bytes: Uint8Array, originalLength = bytes.length, linkType: number = LinkType.EN10MB): Frame {
    return { index: 1, timestampNs: 0n, capturedLength: bytes.length, originalLength, linkType, interfaceId: 0, bytes };
  }

  const taken = (frame: Frame, heuristic = false): boolean => {
    const store = new SightingStore(1);
    return new CommonFrames(DEFAULT_VXLAN_PORTS, heuristic).decode(store, store.take(), frame, 0, 0);
  };

  it('is taken in the shapes the crafted refusals start from', () => {
    expect(taken(frameOf(plainFrame()))).toBe(true);
    expect(taken(frameOf(tunnelledFrame(4789)))).toBe(true);
    expect(taken(frameOf(plainFrame((b) => (b[23] = 6), tcpHeader(0x50))))).toBe(true);
  });

  it('goes to the dissector for each reason the common path cannot follow', () => {
    const refused: Record<string, Frame> = {
      'cut by the snap length': frameOf(plainFrame(), 100),
      'a Linux cooked capture': frameOf(plainFrame(), undefined, LinkType.LINUX_SLL2),
      'a VLAN tag': frameOf(plainFrame((b) => b.set([0x81, 0x00], 12))),
      'IPv4 options': frameOf(plainFrame((b) => (b[14] = 0x46))),
      'IPv6': frameOf(plainFrame((b) => (b[14] = 0x65))),
      'a first fragment (MF)': frameOf(plainFrame((b) => (b[20] = 0x20))),
      'a later fragment': frameOf(plainFrame((b) => (b[21] = 0x10))),
      'total length 0 (TSO)': frameOf(plainFrame((b) => b.set([0, 0], 16))),
      'a total length past the frame': frameOf(plainFrame((b) => (b[17] = 200))),
      'an ICMP error': frameOf(plainFrame(undefined, [3, 3, 0, 0, 0, 0, 0, 0])),
      'a TCP header cut short': frameOf(plainFrame((b) => (b[23] = 6), [0, 80, 0, 81, 0, 0, 0, 0])),
      'a TCP header length below 20': frameOf(plainFrame((b) => (b[23] = 6), tcpHeader(0x40))),
      'a TCP header length past the packet': frameOf(plainFrame((b) => (b[23] = 6), tcpHeader(0xf0))),
      'a UDP length below its header': frameOf(plainFrame((b) => (b[23] = 17), [0, 53, 0, 53, 0, 4, 0, 0])),
      // The inner packet (IPv4 at 64) made UDP to port 4789: a tunnel inside the tunnel.
      'UDP on a VXLAN port inside VXLAN': frameOf(tunnelledFrame(4789, (b) => {
        b[64 + 9] = 17;
        b.set([0x9c, 0x40, 0x12, 0xb5, 0, 8, 0, 0], 84);
      })),
      'ARP inside VXLAN': frameOf(tunnelledFrame(8472, (b) => b.set([0x08, 0x06], 62))),
    };
    for (const [reason, frame] of Object.entries(refused)) expect(taken(frame), reason).toBe(false);
  });

  it('goes to the dissector for UDP the VXLAN heuristic may claim', () => {
    const dns = frameOf(plainFrame((b) => (b[23] = 17), [0, 53, 0, 53, 0, 8, 0, 0]));
    expect(taken(dns)).toBe(true);
    expect(taken(dns, true)).toBe(false);
  });
});
