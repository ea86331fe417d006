import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaptureError } from '../../src/capture/errors.js';
import { parsePointArgument } from '../../src/correlate/points.js';
import { trace, TraceError } from '../../src/correlate/trace.js';
import { CORPUS_DIR, corpusAvailable, corpusIndex } from '../support/corpus.js';
import { tsharkAvailable } from '../support/tshark.js';

/*
 * Every capture of the peer corpus (odd link types, broken files, nested VXLAN, GBP, VLAN
 * underlays) traced as one point, and every VXLAN capture also against itself shifted into a
 * second point: trace must finish or refuse with a named error, never throw anything else, and
 * must account for every frame it read.
 */

if (!corpusAvailable()) console.warn(`SKIPPED: the peer corpus is not at ${CORPUS_DIR}`);

describe.skipIf(!corpusAvailable())('trace over the peer corpus', () => {
  const entries = corpusAvailable() ? corpusIndex() : [];

  it('finishes on every capture, or stops with a CaptureError or TraceError', () => {
    let finished = 0;
    for (const entry of entries) {
      const file = join(CORPUS_DIR, entry.relpath);
      let result: ReturnType<typeof trace>;
      try {
        result = trace([parsePointArgument(file)], { vxlanPorts: [4789, 8472] });
      } catch (error) {
        if (error instanceof CaptureError || error instanceof TraceError) continue;
        throw new Error(`${entry.relpath}: ${String(error)}`);
      }
      finished += 1;
      // Every identified frame is in exactly one packet's journey, or left out as a duplicate.
      const identified = result.points.reduce((n, p) => n + p.frames - p.unidentified - p.duplicates, 0);
      expect(result.packets, entry.relpath).toBeLessThanOrEqual(identified);
      if (result.points.length === 1) {
        expect(result.packets, entry.relpath).toBe(identified);
        expect(result.matched, entry.relpath).toBe(0);
      }
    }
    expect(finished).toBeGreaterThan(entries.length * 0.9);
  });

  it.skipIf(!tsharkAvailable())('links each ICMP error to the packet whose IP ID tshark shows it quoting', () => {
    const withErrors = entries.filter((e) => e.protocols.includes('icmp:ip'));
    let linked = 0;
    for (const entry of withErrors) {
      const file = join(CORPUS_DIR, entry.relpath);
      const quotedBy = new Map<number, number>();
      try {
        trace([parsePointArgument(file)], { vxlanPorts: [4789, 8472], onPacket: (p) => p.icmpError !== null && quotedBy.set(p.icmpError.frame, p.sightings[0]!.sighting.ipId) });
      } catch (error) {
        if (error instanceof CaptureError || error instanceof TraceError) continue;
        throw error;
      }
      if (quotedBy.size === 0) continue;
      // The last IP ID of an ICMP error frame is the quoted header's.
      const run = spawnSync('tshark', ['-n', '-r', file, '-T', 'fields', '-e', 'frame.number', '-e', 'ip.id', '-E', 'occurrence=l'], { encoding: 'utf8' });
      const tsharkQuoted = new Map(run.stdout.trim().split('\n').map((line) => line.split('\t')).map(([frame, id]) => [Number(frame), Number(id)]));
      for (const [frame, ipId] of quotedBy) expect(ipId, `${entry.relpath} frame ${frame}`).toBe(tsharkQuoted.get(frame));
      linked += quotedBy.size;
    }
    // tcpdump's afs.pcap (port unreachable), SLL_Simple.pcap and OpenVPN_UDP_tls-auth.pcapng.
    expect(linked).toBeGreaterThanOrEqual(30);
  });

  it('matches every packet of a VXLAN capture with the same capture given as a second point', () => {
    const vxlan = entries.filter((e) => e.category.includes('vxlan') && e.packets !== undefined);
    expect(vxlan.length).toBeGreaterThanOrEqual(10);
    for (const entry of vxlan) {
      const file = join(CORPUS_DIR, entry.relpath);
      const result = trace([parsePointArgument(`a/x=${file}`), parsePointArgument(`b/x=${file}`)], { vxlanPorts: [4789, 8472] });
      const [a, b] = result.points;
      // Identical twins: every packet seen at both, unless it repeats within the window (an
      // identical retransmission or a duplicated frame in the file).
      expect(a!.frames, entry.relpath).toBe(b!.frames);
      const identified = a!.frames - a!.unidentified;
      expect(result.matched, entry.relpath).toBeGreaterThanOrEqual(identified * 0.9);
      expect(result.packets - result.matched, entry.relpath).toBeLessThanOrEqual(2 * (identified - result.matched));
    }
  });
});
