/**
 * The two JSON writers agree: packetToJsonText (templates, the fast path for output) writes
 * exactly JSON.stringify(packetToJson(...)) (the field maps), on every real and crafted packet
 * with every dissector configuration. (robustness.test.ts checks the same on fuzzed frames.)
 */
import { describe, expect, test } from 'vitest';
import { createDissector, packetToJson, packetToJsonText } from '../../src/dissect/index.js';
import { realFrames } from './samples.js';

describe('packetToJsonText = JSON.stringify(packetToJson)', () => {
  const frames = realFrames();
  const configurations = {
    default: createDissector(),
    heuristic: createDissector({ vxlanHeuristic: true }),
    'no checksums, port 8472 only': createDissector({ vxlanPorts: [8472], verifyChecksums: false }),
  };
  for (const [name, dissect] of Object.entries(configurations)) {
    test(name, () => {
      const differing: string[] = [];
      for (const f of frames) {
        const p = dissect(f);
        const text = packetToJsonText(p, 'node1-eth0.pcap');
        if (text !== JSON.stringify(packetToJson(p, 'node1-eth0.pcap'))) differing.push(`frame ${f.index}: ${text}`);
        for (const l of p.layers) {
          if (l.fieldsJson !== JSON.stringify(l.fields)) differing.push(`frame ${f.index} ${l.protocol}: ${l.fieldsJson}`);
        }
      }
      expect(differing.slice(0, 5)).toEqual([]);
      expect(frames.length).toBeGreaterThan(7);
    });
  }
});
