/**
 * Conformance with tshark over every VXLAN capture of the peer corpus (../shared/corpus, the
 * rows of INDEX.tsv whose category mentions vxlan: tcpdump's, Zeek's, Suricata's, nDPI's and
 * Arkime's samples). Every packet's fields, outer and inner, are compared one by one.
 *
 * Where tshark and vxdump disagree on purpose, KNOWN says so per file (and frame or field),
 * who is right and why. An explanation that matches nothing fails the test too.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import {
  compareWithTshark,
  type ComparisonResult,
  describe as describeDifference,
  type KnownDifference,
  tsharkAvailable,
  unusedExplanations,
} from './tshark-compare.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CORPUS = resolve(REPO, '../shared/corpus');
const INDEX = join(CORPUS, 'INDEX.tsv');

const HAVE_TSHARK = tsharkAvailable();
const HAVE_CORPUS = existsSync(INDEX);
if (!HAVE_TSHARK) console.warn('corpus-vs-tshark: SKIPPED, tshark is not installed');
if (!HAVE_CORPUS) console.warn(`corpus-vs-tshark: SKIPPED, no peer corpus at ${CORPUS}`);

/** relpath of every VXLAN capture listed in INDEX.tsv. */
function vxlanCaptures(): string[] {
  return readFileSync(INDEX, 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.split('\t'))
    .filter((cols) => cols.length > 8 && /vxlan/.test(cols[8]!))
    .map((cols) => cols[0]!);
}

/** Decode-As per file: the ports a user would give (tcpdump's sample uses the kernel's 8472). */
const PORTS: Record<string, number[]> = {
  'vxlan_port_8472.pcap': [8472],
};

const IPV6_NOT_YET = 'tshark is right: vxdump does not decode IPv6 yet (DESIGN.md lists it as later work), so it stops at the IPv6 header.';

const KNOWN: KnownDifference[] = [
  {
    file: 'arkime_gre-erspan-vxlan.pcap',
    kind: 'tshark-only',
    right: 'tshark',
    reason:
      'The VXLAN packets travel inside GRE + ERSPAN type II (a mirror session); vxdump decodes neither ' +
      'GRE nor ERSPAN, so it stops after the outer IPv4 header (protocol 47). tshark is right.',
  },
  {
    file: 'zeek_geneve-vxlan-dns-truncated.pcap',
    kind: 'tshark-only',
    right: 'tshark',
    reason:
      'VXLAN inside Geneve (UDP 6081): vxdump does not decode Geneve yet, so the outer UDP is its last ' +
      'layer. tshark is right.',
  },
  { file: 'gso-ipv4-vxlan-ipv6.pcap', kind: 'tshark-only', right: 'tshark', reason: `The inner frame is IPv6. ${IPV6_NOT_YET}` },
  { file: 'gso-ipv6-vxlan-ipv4.pcap', kind: 'tshark-only', right: 'tshark', reason: `The underlay is IPv6. ${IPV6_NOT_YET}` },
  { file: 'gso-ipv6-vxlan-ipv6.pcap', kind: 'tshark-only', right: 'tshark', reason: `The underlay is IPv6. ${IPV6_NOT_YET}` },
  { file: 'bigtcp-ipv6-vxlan-ipv4.pcap', kind: 'tshark-only', right: 'tshark', reason: `The underlay is IPv6 (a BIG TCP jumbogram). ${IPV6_NOT_YET}` },
  { file: 'bigtcp-ipv6-vxlan-ipv6.pcap', kind: 'tshark-only', right: 'tshark', reason: `The underlay is IPv6 (a BIG TCP jumbogram). ${IPV6_NOT_YET}` },
  ...['bigtcp-ipv4-vxlan-ipv4.pcap', 'bigtcp-ipv4-vxlan-ipv6.pcap'].flatMap((file): KnownDifference[] => [
    {
      file,
      kind: 'layer',
      right: 'vxdump',
      reason:
        'A BIG TCP packet (80 KB) sent over VXLAN: IPv4 total length 0 and UDP length 0 because the real ' +
        'lengths do not fit 16 bits. tshark takes the IPv4 length from the capture but calls the UDP ' +
        'length 0 malformed and stops; vxdump, like tcpdump ("length 80102 [was 0, presumed BIG TCP]"), ' +
        'takes the UDP length from the IPv4 payload and decodes the VXLAN header and inner frame. vxdump is right.',
    },
    {
      file,
      kind: 'field',
      protocol: 'udp',
      right: 'both',
      reason:
        'Same BIG TCP packet: tshark stops at the UDP length and never adds the checksum fields; vxdump ' +
        'reports the checksum it read (unverified: a GSO packet is checksummed per segment by the NIC).',
    },
  ]),

  {
    file: 'nsh-over-vxlan-gpe.pcap',
    right: 'tshark',
    reason:
      'UDP port 4790 is VXLAN-GPE (draft-ietf-nvo3-vxlan-gpe), a different header (version, next-protocol ' +
      'field) that Wireshark decodes under the vxlan name and vxdump does not decode; here it carries NSH. ' +
      'vxdump stops after UDP. tshark is right.',
  },
];

const results: ComparisonResult[] = [];

describe.skipIf(!HAVE_TSHARK || !HAVE_CORPUS)('peer corpus VXLAN captures: vxdump = tshark, field by field', () => {
  const files = HAVE_CORPUS ? vxlanCaptures() : [];

  test('the corpus lists its VXLAN captures', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
    expect(files.filter((f) => f.startsWith('misc/'))).toHaveLength(10);
  });

  for (const relpath of files) {
    test(relpath, () => {
      const name = relpath.split('/').pop()!;
      const ports = PORTS[name];
      const result = compareWithTshark({
        capture: join(CORPUS, relpath),
        dissector: ports === undefined ? {} : { vxlanPorts: ports },
        known: KNOWN,
      });
      results.push(result);
      for (const by of new Set(result.explained.map((e) => e.by))) {
        const mine = result.explained.filter((e) => e.by === by);
        console.info(
          `explained, ${by.right === 'both' ? 'both right' : `${by.right} right`}: ${mine.length} difference(s), e.g. ` +
            `${describeDifference(mine[0]!.difference)}\n    ${by.reason}`,
        );
      }
      expect(result.unexplained.map(describeDifference)).toEqual([]);
      expect(result.frames).toBeGreaterThan(0);
    });
  }

  afterAll(() => {
    if (results.length !== files.length) return; // a filtered run: staleness cannot be judged
    const stale = unusedExplanations(KNOWN, results);
    expect(stale.map((k) => `${k.file}: ${k.reason}`), 'explanations that no longer match any difference').toEqual([]);
    const fields = results.reduce((n, r) => n + r.fieldsCompared, 0);
    const layers: Record<string, number> = {};
    for (const r of results) for (const [p, n] of Object.entries(r.layersCompared)) layers[p] = (layers[p] ?? 0) + n;
    console.info(`corpus-vs-tshark: ${results.length} captures, ${fields} field values equal, layers ${JSON.stringify(layers)}`);
  });
});

test.skipIf(HAVE_TSHARK && HAVE_CORPUS)('corpus-vs-tshark needs tshark and ../shared/corpus', () => {
  console.warn(`corpus-vs-tshark: SKIPPED (tshark ${HAVE_TSHARK ? 'found' : 'missing'}, corpus ${HAVE_CORPUS ? 'found' : `missing at ${CORPUS}`})`);
});
