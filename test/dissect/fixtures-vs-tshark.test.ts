/**
 * Conformance with tshark over the lab fixtures (fixtures/<scenario>/*.pcap[ng]), using the
 * `<capture>.tshark.json` the lab keeps beside each capture (so tshark is not needed here).
 * The VXLAN port per scenario comes from its manifest.json, as a user would pass --vxlan-port.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import {
  compareWithTshark,
  type ComparisonResult,
  describe as describeDifference,
  IP_REASSEMBLY,
  type KnownDifference,
} from './tshark-compare.js';

const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures');

interface Scenario {
  name: string;
  port: number;
  captures: string[];
}

function scenarios(): Scenario[] {
  if (!existsSync(FIXTURES)) return [];
  return readdirSync(FIXTURES, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(FIXTURES, d.name, 'manifest.json')))
    .map((d) => {
      const manifest = JSON.parse(readFileSync(join(FIXTURES, d.name, 'manifest.json'), 'utf8')) as { vxlan: { udpPort: number } };
      const captures = readdirSync(join(FIXTURES, d.name))
        .filter((f) => /\.pcap(ng)?$/.test(f) && existsSync(join(FIXTURES, d.name, `${f}.tshark.json`)))
        .sort();
      return { name: d.name, port: manifest.vxlan.udpPort, captures };
    });
}

const KNOWN: KnownDifference[] = [IP_REASSEMBLY];

const found = scenarios();
if (found.length === 0) console.warn(`fixtures-vs-tshark: SKIPPED, no lab fixtures with tshark JSON under ${FIXTURES}`);

const results: ComparisonResult[] = [];

describe.skipIf(found.length === 0)('lab fixtures: vxdump = tshark, field by field', () => {
  for (const scenario of found) {
    for (const capture of scenario.captures) {
      test(`${scenario.name}/${capture}`, () => {
        const path = join(FIXTURES, scenario.name, capture);
        const result = compareWithTshark({
          capture: path,
          tsharkJson: readFileSync(`${path}.tshark.json`, 'utf8'),
          dissector: { vxlanPorts: [scenario.port] },
          known: KNOWN,
          label: `${scenario.name}/${capture}`,
        });
        results.push(result);
        expect(result.unexplained.map(describeDifference)).toEqual([]);
        expect(result.fieldsCompared).toBeGreaterThan(0);
      });
    }
  }

  afterAll(() => {
    const fields = results.reduce((n, r) => n + r.fieldsCompared, 0);
    const explained = results.reduce((n, r) => n + r.explained.length, 0);
    console.info(`fixtures-vs-tshark: ${results.length} captures, ${fields} field values equal, ${explained} explained differences`);
  });
});

test.skipIf(found.length > 0)('fixtures-vs-tshark needs the lab fixtures', () => {
  console.warn('fixtures-vs-tshark: SKIPPED (run `npm run lab` to make fixtures/)');
});
