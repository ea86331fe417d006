import { describe, expect, it } from 'vitest';
import { estimateClockOffsets, type PointSample } from '../../src/correlate/clock.js';
import { type Journey, JourneyMatcher, JourneyPool } from '../../src/correlate/journeys.js';
import type { CapturePoint } from '../../src/correlate/points.js';
import { Kind, nextHopMtuAt, NONE, quotedIdentityAt, SightingStore } from '../../src/correlate/sighting.js';
import { createDissector } from '../../src/dissect/index.js';
import { arp, concat, eth, frame, icmp, ipv4, ipv4Tcp, tag, vxlanPacket } from '../dissect/craft.js';

/*
 * Packet identity: what survives every hop must give the same identity, and what tells two
 * packets apart (a retransmission's new IP ID, another flow's payload under a colliding IP ID)
 * must not. Crafted, because the lab cannot make collisions on demand.
 */

const dissect = createDissector({ vxlanPorts: [4789] });
const store = new SightingStore();
const slotOf = (bytes: Uint8Array): number => store.add(dissect(frame(bytes)), 0, 0);
const identityOf = (bytes: Uint8Array): number => store.identity[slotOf(bytes)]!;

const DATA = new TextEncoder().encode('GET / HTTP/1.1\r\nHost: 10.244.2.2\r\n\r\n');

function segment(options: { id?: number; ttl?: number; src?: string; dst?: string; sport?: number; dport?: number; seq?: number; data?: Uint8Array; mac?: string }): Uint8Array {
  return eth(
    0x0800,
    ipv4Tcp(
      { id: options.id ?? 4242, ttl: options.ttl ?? 64, src: options.src ?? '10.244.1.2', dst: options.dst ?? '10.244.2.2', df: true },
      { sport: options.sport ?? 41000, dport: options.dport ?? 80, seq: options.seq ?? 1000, ack: 77, flags: 0x018 },
      options.data ?? DATA,
    ),
    '02:00:0a:f4:02:00',
    options.mac ?? '02:00:0a:f4:01:00',
  );
}

describe('packet identity', () => {
  it('survives routing (TTL, MACs, checksum), NAT (addresses, ports) and VXLAN encapsulation', () => {
    const original = identityOf(segment({}));
    expect(identityOf(segment({ ttl: 63, mac: '02:00:0a:f4:01:99' }))).toBe(original);
    expect(identityOf(segment({ dst: '10.96.0.10', dport: 8080, src: '10.244.1.0', sport: 50123 }))).toBe(original);
    expect(identityOf(vxlanPacket(11, segment({ ttl: 63 })))).toBe(original);
  });

  it('tells apart a retransmission (new IP ID), a colliding IP ID with other data, another sequence number', () => {
    const original = identityOf(segment({}));
    expect(identityOf(segment({ id: 4243 }))).not.toBe(original);
    expect(identityOf(segment({ data: new TextEncoder().encode('GET /other HTTP/1.1\r\nHost: 10.244.2.2\r\n\r\n') }))).not.toBe(original);
    expect(identityOf(segment({ seq: 1001 }))).not.toBe(original);
  });

  it('keeps the payload apart from the identity, as a snap length may cut it at one point and not at another', () => {
    const full = segment({});
    const original = store.snapshot(slotOf(full));
    // The same headers, another payload of the same length: IP IDs that collide.
    const other = store.snapshot(slotOf(segment({ data: new TextEncoder().encode('PUT / HTTP/1.1\r\nHost: 10.244.2.2\r\n\r\n') })));
    expect(other.identity).toBe(original.identity);
    expect(other.payloadHash).not.toBe(original.payloadHash);
    // Cut 10 bytes into the payload (tcpdump -s 76): the same identity, no payload to compare.
    const cut = store.snapshot(store.add(dissect(frame(full.subarray(0, 76), 1, full.length)), 0, 0));
    expect([cut.identity, cut.payloadHash]).toEqual([original.identity, NONE]);
  });

  it('keeps the ICMP echo identifier out (NAT may rewrite it) but not the sequence number', () => {
    const ping = (ident: number, seq: number) =>
      eth(0x0800, ipv4({ proto: 1, id: 7, src: '10.244.1.2', dst: '10.244.2.2' }, icmp(8, 0, (ident << 16) | seq, DATA)));
    expect(identityOf(ping(1, 1))).toBe(identityOf(ping(2, 1)));
    expect(identityOf(ping(1, 1))).not.toBe(identityOf(ping(1, 2)));
  });

  it('gives an ARP frame the same identity at the VXLAN device and inside VXLAN on eth0', () => {
    const request = eth(0x0806, arp({ opcode: 1, senderMac: '02:00:0a:f4:01:00', senderIp: '10.244.1.0', targetMac: '00:00:00:00:00:00', targetIp: '10.244.2.0' }), 'ff:ff:ff:ff:ff:ff', '02:00:0a:f4:01:00');
    const s = store.snapshot(slotOf(request));
    expect(s.kind).toBe(Kind.Arp);
    expect(identityOf(vxlanPacket(11, request))).toBe(s.identity);
    const reply = eth(0x0806, arp({ opcode: 2, senderMac: '02:00:0a:f4:02:00', senderIp: '10.244.2.0', targetMac: '02:00:0a:f4:01:00', targetIp: '10.244.1.0' }));
    expect(identityOf(reply)).not.toBe(s.identity);
  });

  it('survives a VLAN tag put on or taken off (a trunk, an eth0.100), which the sighting keeps apart', () => {
    // An IPv4 segment, an ARP request and an IPv6 packet (identified by its bytes), each
    // untagged, tagged 100 and double-tagged (802.1ad 200 outside, 802.1Q 100 inside).
    const ipv6 = concat(new Uint8Array([0x60, 0, 0, 0, 0, 8, 17, 64]), new Uint8Array(32).fill(0xfe), new Uint8Array([0x12, 0x34, 0x56, 0x78, 0, 8, 0, 0]));
    const payloads: [number, Uint8Array][] = [
      [0x0800, segment({}).subarray(14)],
      [0x0806, arp({ opcode: 1, senderMac: '02:00:0a:f4:01:00', senderIp: '10.244.1.0', targetMac: '00:00:00:00:00:00', targetIp: '10.244.2.0' })],
      [0x86dd, ipv6],
    ];
    for (const [type, payload] of payloads) {
      const untagged = store.snapshot(slotOf(eth(type, payload)));
      const tagged = store.snapshot(slotOf(eth(0x8100, tag(100, type, payload))));
      const stacked = store.snapshot(slotOf(eth(0x88a8, tag(200, 0x8100, tag(100, type, payload)))));
      expect([tagged.identity, stacked.identity]).toEqual([untagged.identity, untagged.identity]);
      expect([untagged.vlan, tagged.vlan, stacked.vlan]).toEqual([NONE, 100, 200]);
      // What the frame carries, not the tag's own type: IPv6 frames stay one flow tagged or not.
      expect([tagged.etherType, stacked.etherType]).toEqual([type, type]);
    }
    const inTunnel = store.snapshot(slotOf(eth(0x8100, tag(300, 0x0800, vxlanPacket(11, segment({ ttl: 63 })).subarray(14)))));
    expect([inTunnel.outerVlan, inTunnel.vlan, inTunnel.identity]).toEqual([300, NONE, store.snapshot(slotOf(segment({}))).identity]);
  });
});

/** A sighting slot with just what the matcher and the clock estimate read. */
function sighting(point: number, timeNs: number, identity: number, fields: { kind?: number; ipSrc?: number; ipDst?: number; vni?: number } = {}): number {
  const slot = store.allocate();
  store.point[slot] = point;
  store.timeNs[slot] = timeNs;
  store.correctedNs[slot] = timeNs;
  store.identity[slot] = identity;
  store.kind[slot] = fields.kind ?? Kind.Other;
  store.ipSrc[slot] = fields.ipSrc ?? NONE;
  store.ipDst[slot] = fields.ipDst ?? NONE;
  store.vni[slot] = fields.vni ?? NONE;
  return slot;
}

describe('the identity an ICMP error quotes', () => {
  /** An ICMP error from a router, quoting `quoted` (an IPv4 packet) up to `quoteBytes` of it. */
  const errorAbout = (type: number, code: number, rest: number, quoted: Uint8Array, quoteBytes = 548) =>
    eth(0x0800, ipv4({ src: '10.244.1.1', dst: '10.244.1.2', proto: 1, id: 777 }, icmp(type, code, rest, quoted.subarray(0, quoteBytes))));
  /** The IPv4 packet inside an Ethernet frame. */
  const ipOf = (frameBytes: Uint8Array) => frameBytes.subarray(14);

  it('is the identity of the packet it quotes, wherever that was seen (time exceeded quoting a TCP segment as the router received it)', () => {
    const error = slotOf(errorAbout(11, 0, 0, ipOf(segment({ ttl: 1 }))));
    expect(quotedIdentityAt(store, error)).toBe(identityOf(segment({ ttl: 64, mac: '02:00:0a:f4:01:99' })));
    expect(quotedIdentityAt(store, error)).not.toBe(identityOf(segment({ id: 4243 })));
    expect(nextHopMtuAt(store, error)).toBe(NONE);
  });

  it('looks through a quoted VXLAN packet (fragmentation needed on the underlay) to the workload\'s packet inside, and keeps the next-hop MTU', () => {
    const inside = segment({ ttl: 63, data: new Uint8Array(1400).fill(7) });
    const error = slotOf(errorAbout(3, 4, 1400, ipOf(vxlanPacket(11, inside))));
    expect(quotedIdentityAt(store, error)).toBe(identityOf(segment({ data: new Uint8Array(1400).fill(7) })));
    expect(nextHopMtuAt(store, error)).toBe(1400);
  });

  it('is NONE for a quote cut inside the TCP header (RFC 792 asks for 8 bytes: no flags), and for packets that are no ICMP error', () => {
    const shortQuote = slotOf(errorAbout(3, 3, 0, ipOf(segment({})), 28));
    expect(quotedIdentityAt(store, shortQuote)).toBe(NONE);
    const request = slotOf(eth(0x0800, ipv4({ src: '10.244.1.2', dst: '10.244.2.2', proto: 1 }, icmp(8, 0, (7 << 16) | 1))));
    expect([quotedIdentityAt(store, request), nextHopMtuAt(store, request)]).toEqual([NONE, NONE]);
    expect(quotedIdentityAt(store, slotOf(segment({})))).toBe(NONE);
  });
});

describe('journey matcher', () => {
  const run = (sightings: number[], windowNs = 1000): Journey[] => {
    const journeys: Journey[] = [];
    const matcher = new JourneyMatcher(store, windowNs, (j) => journeys.push(j));
    for (const s of sightings) matcher.add(s);
    matcher.finish();
    return journeys;
  };

  it('joins sightings of one identity at different points within the window', () => {
    const journeys = run([sighting(0, 0, 5), sighting(1, 400, 5), sighting(2, 900, 5)]);
    expect(journeys.map((j) => j.sightings.map((s) => store.point[s]))).toEqual([[0, 1, 2]]);
  });

  it('starts a new journey when the point already saw that identity (a retransmission, an ARP retry)', () => {
    // 100 µs apart: more than a duplicate's 10 µs.
    const journeys = run([sighting(0, 0, 5), sighting(1, 100_000, 5), sighting(0, 200_000, 5), sighting(1, 300_000, 5)], 1_000_000);
    expect(journeys.map((j) => j.sightings.map((s) => store.timeNs[s]))).toEqual([
      [0, 100_000],
      [200_000, 300_000],
    ]);
  });

  it('leaves out the same frame again at one point within 10 µs, and counts it for that point', () => {
    const journeys: Journey[] = [];
    const matcher = new JourneyMatcher(store, 1_000_000, (j) => journeys.push(j));
    const again = (timeNs: number, ttl: number) => {
      const slot = sighting(0, timeNs, 5);
      store.ttl[slot] = ttl;
      return slot;
    };
    // A copy 5 µs after, one 10 µs after the first, one rewritten (another TTL), one 11 µs after the first.
    for (const slot of [again(0, 64), again(5_000, 64), again(10_000, 64), again(10_500, 63), again(11_000, 64), sighting(1, 20_000, 5)]) matcher.add(slot);
    matcher.finish();
    expect(matcher.duplicates).toEqual([2]);
    expect(journeys.map((j) => j.sightings.map((s) => store.timeNs[s]))).toEqual([[0], [10_500], [11_000, 20_000]]);
  });

  it('keeps packets whose headers agree apart by their payload, and joins a sighting without one to either', () => {
    const withPayload = (point: number, timeNs: number, payloadHash: number) => {
      const slot = sighting(point, timeNs, 5);
      store.payloadHash[slot] = payloadHash;
      return slot;
    };
    // Two packets with the same identity, A and B, seen at point 0; point 1 saw them cut (no payload).
    const journeys = run([withPayload(0, 0, 0xa), withPayload(0, 10, 0xb), withPayload(1, 20, 0xb), withPayload(1, 30, NONE), withPayload(2, 40, 0xa)]);
    expect(journeys.map((j) => j.sightings.map((s) => [store.point[s], store.payloadHash[s]]))).toEqual([
      [[0, 0xa], [1, NONE], [2, 0xa]],
      [[0, 0xb], [1, 0xb]],
    ]);
  });

  it('keeps two copies of one frame sent into two tunnels apart by their VNI', () => {
    const journeys = run([sighting(0, 0, 5, { vni: 1 }), sighting(0, 10, 5, { vni: 2 }), sighting(1, 20, 5, { vni: 1 }), sighting(1, 30, 5, { vni: 2 })]);
    expect(journeys.map((j) => j.sightings.map((s) => store.vni[s]))).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });

  it('never joins a twin older than the window, and completes journeys in the order they started', () => {
    const journeys = run([sighting(0, 0, 5), sighting(0, 10, 6), sighting(1, 5000, 5), sighting(1, 5001, 6)]);
    expect(journeys.map((j) => j.sightings.length)).toEqual([1, 1, 1, 1]);
    expect(journeys.map((j) => j.id)).toEqual([1, 2, 3, 4]);
  });
});

describe('journey pool', () => {
  it('reuses a decided journey, and no newer copy of its packet still leads to it', () => {
    const done: string[] = [];
    const completed: Journey[] = [];
    const pool = new JourneyPool();
    const matcher = new JourneyMatcher(
      store,
      1_000_000,
      (j) => {
        done.push(`${j.id}:${j.sightings.map((s) => store.timeNs[s]).join(',')}`);
        completed.push(j);
      },
      pool,
    );
    matcher.add(sighting(0, 0, 5));
    // A copy seen at the same point again (not within a duplicate's 10 µs): a new journey, whose twin is the first.
    matcher.add(sighting(0, 600_000, 5));
    // Completes the first journey only, which the flow table would decide and hand back.
    matcher.add(sighting(0, 1_200_000, 7));
    expect(done).toEqual(['1:0']);
    pool.release(completed[0]!);
    // The same packet twice more, the first in the reused journey: no chain may lead back to it.
    matcher.add(sighting(0, 1_300_000, 5));
    matcher.add(sighting(0, 1_400_000, 5));
    matcher.finish();
    expect(done).toEqual(['1:0', '2:600000', '3:1200000', '4:1300000', '5:1400000']);
    expect(completed[3]).toBe(completed[0]);
  });
});

describe('clock offsets', () => {
  const point = (index: number, node: string): CapturePoint => ({ index, label: `${node}/eth0`, node, iface: 'eth0', file: `${node}.pcap` });

  it('finds the offset between two nodes from the minimum delays both ways, with half their sum as the bound', () => {
    const offset = 2_500_000_123;
    const a: PointSample = new Map();
    const b: PointSample = new Map();
    const there = { kind: Kind.Ipv4, ipSrc: 1, ipDst: 2 };
    const back = { kind: Kind.Ipv4, ipSrc: 2, ipDst: 1 };
    // 20 requests node1 → node2 (delay 30-70 µs), 20 replies back (delay 20-50 µs).
    for (let i = 0; i < 20; i++) {
      const t = i * 1e6;
      a.set(100 + i, sighting(0, t, 100 + i, there));
      b.set(100 + i, sighting(1, t + 30_000 + (i % 5) * 10_000 + offset, 100 + i, there));
      b.set(200 + i, sighting(1, t + 500_000 + offset, 200 + i, back));
      a.set(200 + i, sighting(0, t + 500_000 + 20_000 + (i % 4) * 10_000, 200 + i, back));
    }
    const [node1, node2] = estimateClockOffsets([point(0, 'node1'), point(1, 'node2')], [a, b], store);
    expect(node1).toMatchObject({ node: 'node1', method: 'reference', offsetNs: 0 });
    // Bound: offset ∈ (offset - 20 µs, offset + 30 µs): the middle is offset + 5 µs, ± 25 µs.
    expect(node2).toMatchObject({ node: 'node2', method: 'two-way', offsetNs: offset + 5000, uncertaintyNs: 25_000, samples: [20, 20] });
  });

  it('says when no packet links two nodes', () => {
    const clock = estimateClockOffsets([point(0, 'node1'), point(1, 'node2')], [new Map(), new Map()], store);
    expect(clock[1]).toMatchObject({ node: 'node2', method: 'none', offsetNs: 0 });
  });
});
