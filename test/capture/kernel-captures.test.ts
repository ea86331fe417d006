import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LinkType } from '../../src/capture/linktypes.js';
import { openCapture } from '../../src/capture/open.js';
import type { PcapReader } from '../../src/capture/pcap.js';
import type { PcapngReader } from '../../src/capture/pcapng.js';
import { epochToNs } from '../support/tshark.js';

/*
 * The lab's captures (scripts/lab, made by the kernel in network namespaces: tcpdump pcap in µs
 * and ns, dumpcap pcapng with several interfaces, tcpdump -i any in Linux cooked v2) read as
 * tshark read them when the lab ran: its JSON is kept beside each capture.
 */

const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures');

function labCaptures(): string[] {
  if (!existsSync(FIXTURES)) return [];
  return readdirSync(FIXTURES, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((scenario) =>
      readdirSync(join(FIXTURES, scenario.name))
        .filter((name) => /\.pcap(ng)?$/.test(name) && existsSync(join(FIXTURES, scenario.name, `${name}.tshark.json`)))
        .map((name) => join(scenario.name, name)),
    );
}

type TsharkPacket = { _source: { layers: { frame: Record<string, string> } } };

const captures = labCaptures();

describe('kernel-made lab captures', () => {
  it('include every capture kind the readers must handle', () => {
    const names = captures.join(' ');
    expect(names).toMatch(/\.ns\.pcap/);
    expect(names).toMatch(/\.pcapng/);
    expect(names).toMatch(/-any\.pcap/);
    expect(captures.length).toBeGreaterThan(40);
  });

  it.each(captures.map((c) => [c]))('%s: frames, lengths and nanosecond times equal tshark', (capture) => {
    const expected = JSON.parse(readFileSync(join(FIXTURES, `${capture}.tshark.json`), 'utf8')) as TsharkPacket[];
    const frames = [...openCapture(join(FIXTURES, capture))].map((frame) => ({
      number: frame.index,
      timestampNs: frame.timestampNs,
      capturedLength: frame.capturedLength,
      originalLength: frame.originalLength,
      interfaceId: frame.interfaceId,
      linkType: frame.linkType,
    }));
    expect(frames.length).toBe(expected.length);
    expected.forEach((packet, i) => {
      const theirs = packet._source.layers.frame;
      const where = `${capture} frame ${theirs['frame.number']}`;
      expect(frames[i]!.number, where).toBe(Number(theirs['frame.number']));
      expect(frames[i]!.timestampNs, where).toBe(epochToNs(theirs['frame.time_epoch']!));
      expect(frames[i]!.capturedLength, where).toBe(Number(theirs['frame.cap_len']));
      expect(frames[i]!.originalLength, where).toBe(Number(theirs['frame.len']));
      if (theirs['frame.interface_id'] !== undefined) {
        expect(frames[i]!.interfaceId, where).toBe(Number(theirs['frame.interface_id']));
      }
    });
  });

  it('reads the nanosecond pcap with its nanoseconds', () => {
    const path = captures.find((c) => c.endsWith('.ns.pcap'))!;
    const capture = openCapture(join(FIXTURES, path));
    const frames = [...capture];
    expect((capture.details as PcapReader).header.nanosecond).toBe(true);
    // A kernel clock in nanoseconds: some frame has digits below the microsecond.
    expect(frames.some((frame) => frame.timestampNs % 1000n !== 0n)).toBe(true);
  });

  it('reads the -i any capture as Linux cooked v2', () => {
    const path = captures.find((c) => c.endsWith('-any.pcap'))!;
    const frames = [...openCapture(join(FIXTURES, path))];
    expect(frames.length).toBeGreaterThan(0);
    expect(frames.every((frame) => frame.linkType === LinkType.LINUX_SLL2)).toBe(true);
  });

  it('reads the multi-interface pcapng with each interface named', () => {
    const path = captures.find((c) => c.endsWith('.pcapng'))!;
    const capture = openCapture(join(FIXTURES, path));
    const seen = new Set([...capture].map((frame) => frame.interfaceName));
    const described = (capture.details as PcapngReader).interfaces.map((i) => i.name);
    expect(described.length).toBeGreaterThanOrEqual(3);
    expect([...seen].sort()).toEqual([...new Set(described)].filter((name) => seen.has(name)).sort());
    expect(seen.size).toBeGreaterThanOrEqual(2);
  });
});
