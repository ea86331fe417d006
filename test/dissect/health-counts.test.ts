/**
 * The bad-checksum counts the decoders keep while decoding (Packet.badHeaderChecksums and
 * badTransportChecksums, what the summary and packetHealth read) equal badChecksums(packet),
 * which walks the layers, on every real, crafted and damaged packet.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { badChecksums, createDissector, isMalformed, isTruncated, packetHealth } from '../../src/dissect/index.js';
import { framesOf, realFrames } from './samples.js';

describe('bad-checksum counts noted while decoding = badChecksums(packet)', () => {
  const frames = [...realFrames(), ...framesOf(fileURLToPath(new URL('../golden/damaged-200.pcap', import.meta.url)))];
  const configurations = {
    default: createDissector(),
    heuristic: createDissector({ vxlanHeuristic: true }),
    'no checksums': createDissector({ verifyChecksums: false }),
  };
  for (const [name, dissect] of Object.entries(configurations)) {
    test(name, () => {
      const differing: string[] = [];
      let bad = 0;
      for (const f of frames) {
        const p = dissect(f);
        const walked = badChecksums(p);
        bad += walked.header + walked.transport;
        if (walked.header !== p.badHeaderChecksums || walked.transport !== p.badTransportChecksums) {
          differing.push(`frame ${f.index}: ${JSON.stringify(walked)} != ${p.badHeaderChecksums}/${p.badTransportChecksums}`);
        }
        for (const strictChecksums of [false, true]) {
          const health = packetHealth(p, { strictChecksums });
          const expected =
            (p.error !== null && !isTruncated(p)) || walked.header > 0 || (strictChecksums && walked.transport > 0);
          if (health.malformed !== expected || isMalformed(p, { strictChecksums }) !== expected) {
            differing.push(`frame ${f.index}: malformed ${health.malformed}, expected ${expected}`);
          }
          expect(health.bad).toEqual(walked);
        }
      }
      expect(differing.slice(0, 5)).toEqual([]);
      if (name !== 'no checksums') expect(bad).toBeGreaterThan(50);
    });
  }
});
