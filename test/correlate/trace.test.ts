import { mkdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Frame } from '../../src/capture/frame.js';
import { LinkType } from '../../src/capture/linktypes.js';
import { openCapture } from '../../src/capture/open.js';
import { PcapWriter } from '../../src/capture/writer.js';
import { describeChanges } from '../../src/correlate/changes.js';
import { NONE, UNRECORDED } from '../../src/correlate/sighting.js';
import { parsePointArgument } from '../../src/correlate/points.js';
import type { TracedPacket } from '../../src/correlate/flows.js';
import { tooBig } from '../../src/correlate/losses.js';
import { trace } from '../../src/correlate/trace.js';
import { createDissector, formatIpv4, formatMac } from '../../src/dissect/index.js';
import { flowText, pointsText, totalsText, unansweredText } from '../../src/report/trace-text.js';
import { scratchDir } from '../support/craft.js';
import {
  FIXTURES,
  labelOf,
  readManifest,
  SCENARIOS,
  scenarioFiles,
  traceFiles,
  traceScenario,
  type Traced,
  writeEdited,
  writeLateInterfacePcapng,
  writeShifted,
  writePcapngWithStatistics,
  writeStoppedBeforeFirstReply,
  writeStoppedPings,
} from './support.js';

/*
 * vxdump trace against the lab's ground truth. Each manifest lists, for the first packet of
 * every flow, the frame it is at each capture point and what it looks like there (written by
 * the lab script from tshark's view at capture time). The tracer must find exactly those frames
 * as one packet, in that order, with those headers; must call lost exactly the packets the lab
 * dropped; and must do so when one node's clock is seconds off.
 */

const traced = new Map<string, Traced>();
/** The interface index node1's interface `name` has in a scenario's lab, as the manifest says. */
function ifindexOf(scenarioName: string, name: string): number {
  return readManifest(scenarioName).topology.interfaces.find((i) => i.namespace === 'node1' && i.name === name)!.ifindex;
}

/** The label trace gives node1's interface `name` in its tcpdump -i any capture: node1/if<index>. */
function anyLabel(scenarioName: string, name: string): string {
  return `node1/if${ifindexOf(scenarioName, name)}`;
}

function scenario(name: string): Traced {
  let t = traced.get(name);
  if (t === undefined) {
    t = traceScenario(name);
    traced.set(name, t);
  }
  return t;
}

describe.each(SCENARIOS)('trace %s: every manifest hop is found as one packet', (name) => {
  const manifest = readManifest(name);

  it.each(manifest.flows.map((f) => [f.name, f] as const))('%s', (_, flow) => {
    const t = scenario(name);
    const seen = flow.hops.filter((h) => h.seen);
    expect(seen.length).toBeGreaterThan(0);
    let previous: ReturnType<Traced['at']> | undefined;
    for (const hop of seen) {
      const label = labelOf(hop.point);
      const found = t.at(label, hop.frame!);
      expect(found, `${name}: ${flow.name} at ${label} frame ${hop.frame}`).toBeDefined();
      const s = found!.sighting.sighting;
      expect({ len: s.length, ttl: s.ttl, ethSrc: formatMac(s.ethSrc), ethDst: formatMac(s.ethDst), vni: s.vni === NONE ? null : s.vni }).toEqual({
        len: hop.frameLen,
        ttl: hop.ttl,
        ethSrc: hop.ethSrc,
        ethDst: hop.ethDst,
        vni: hop.encapsulated ? hop.outer!.vni : null,
      });
      if (previous !== undefined && previous.packet !== found!.packet) {
        // Only fragmentation splits a packet in two: the first journey must say so.
        expect(previous.packet.fragmented, `${flow.name}: split between ${labels(t, previous)} and ${label}`).toEqual({
          after: previous.sighting.sighting.point,
          before: s.point,
        });
      } else if (previous !== undefined) {
        // Same packet: the sightings follow the manifest's order, one step at a time.
        const sightings = found!.packet.sightings;
        expect(sightings.indexOf(found!.sighting)).toBe(sightings.indexOf(previous.sighting) + 1);
      }
      previous = found;
    }
    // Where the manifest says the packet went no further although the path does, it is lost there,
    // or expired if it came there with a TTL of 1 (ttl: the next hop routes).
    const lastSeen = flow.hops.indexOf(seen[seen.length - 1]!);
    const next = flow.hops[lastSeen + 1];
    const first = flow.hops.indexOf(seen[0]!);
    const ranOut = (seen[seen.length - 1]!.ttl ?? Infinity) <= 1;
    const { lost, expired } = previous!.packet;
    if (next !== undefined && !next.seen && first === 0) {
      const hop = { after: t.labels.indexOf(labelOf(seen[seen.length - 1]!.point)), before: t.labels.indexOf(labelOf(next.point)) };
      expect({ lost, expired }).toEqual(ranOut ? { lost: null, expired: hop } : { lost: hop, expired: null });
    } else {
      expect({ lost, expired }).toEqual({ lost: null, expired: null });
    }
  });
});

function labels(t: Traced, found: NonNullable<ReturnType<Traced['at']>>): string {
  return t.labels[found.sighting.sighting.point]!;
}

describe('trace: the primer table for the first echo request of p2p-4789', () => {
  it('is seen at all eight points with TTL 64/64/63/63/63/63/62/62, +50 bytes at eth0 and −50 after', () => {
    const t = scenario('p2p-4789');
    const request = t.at('ns1/veth1a', readManifest('p2p-4789').flows[0]!.hops[0]!.frame!)!.packet;
    const at = request.sightings.map((s) => t.labels[s.sighting.point]);
    expect(at).toEqual(['ns1/veth1a', 'node1/br0', 'node1/vxlan11', 'node1/eth0', 'node2/eth0', 'node2/vxlan11', 'node2/br0', 'ns2/veth2a']);
    expect(request.sightings.map((s) => s.sighting.ttl)).toEqual([64, 64, 63, 63, 63, 63, 62, 62]);
    expect(request.sightings.map((s) => s.sighting.length)).toEqual([98, 98, 98, 148, 148, 98, 98, 98]);
    const words = request.sightings.map((s) => describeChanges(s.changes));
    expect(words[1]).toBe('unchanged');
    expect(words[2]).toBe('MAC 02:00:0a:f4:01:02 > 02:00:0a:f4:01:01 \u2192 02:00:0a:f4:01:00 > 02:00:0a:f4:02:00, TTL 64\u219263 (routed)');
    expect(words[3]).toMatch(/^\+ VXLAN vni 11, 10\.211\.55\.122:\d+ \u2192 10\.211\.55\.123:4789, \+50 bytes$/);
    expect(words[4]).toBe('unchanged');
    expect(words[5]).toBe('\u2212 VXLAN vni 11, \u221250 bytes');
    expect(words[6]).toBe('MAC 02:00:0a:f4:01:00 > 02:00:0a:f4:02:00 \u2192 02:00:0a:f4:02:01 > 02:00:0a:f4:02:02, TTL 63\u219262 (routed)');
    expect(request.lost).toBeNull();
    expect(request.missed).toEqual([]);
  });

  it('matches the ARP for the peer VTEP from vxlan11 through both eth0s (inside VXLAN) to the peer vxlan11, and the pod\'s ARP on its own segment only', () => {
    const t = scenario('p2p-4789');
    const at = (name: string) => t.result.flows.find((f) => f.name === name)!.path.map((p) => t.labels[p]);
    expect(at('ARP who-has 10.244.2.0 tell 10.244.1.0')).toEqual(['node1/vxlan11', 'node1/eth0', 'node2/eth0', 'node2/vxlan11']);
    expect(at('ARP 10.244.2.0 is-at 02:00:0a:f4:02:00 (to 10.244.1.0)')).toEqual(['node2/vxlan11', 'node2/eth0', 'node1/eth0', 'node1/vxlan11']);
    expect(at('ARP who-has 10.244.1.1 tell 10.244.1.2')).toEqual(['ns1/veth1a', 'node1/br0']);
  });

  it('infers the path order of the primer from the traffic, whatever order the files are given in', () => {
    const files = scenarioFiles('p2p-4789');
    const expected = ['ns1/veth1a', 'node1/br0', 'node1/vxlan11', 'node1/eth0', 'node2/eth0', 'node2/vxlan11', 'node2/br0', 'ns2/veth2a'];
    for (const order of [files, [...files].reverse(), [files[3]!, files[6]!, files[0]!, files[7]!, files[1]!, files[5]!, files[2]!, files[4]!]]) {
      const t = traceFiles(order, { vxlanPorts: [4789] });
      expect(t.result.order.source).toBe('inferred');
      expect(t.result.order.points.map((i) => t.labels[i])).toEqual(expected);
    }
  });

  it('puts second captures of one interface (tcpdump -i any, a ns copy of eth0) beside it, not at the end of the path', () => {
    const dir = join(FIXTURES, 'p2p-4789');
    const extra = [join(dir, 'node1-any.pcap'), join(dir, 'node1-eth0.ns.pcap')];
    const files = scenarioFiles('p2p-4789');
    const primer = ['ns1/veth1a', 'node1/br0', 'node1/vxlan11', 'node1/eth0', 'node2/eth0', 'node2/vxlan11', 'node2/br0', 'ns2/veth2a'];
    // tcpdump -i any gives a point per interface index (node1/if3 is br0, ...); the ns capture
    // of eth0 is another copy of eth0.
    const copies = new Map(['br0', 'vxlan11', 'eth0'].map((name) => [`node1/${name}`, [`node1/${name}`, anyLabel('p2p-4789', name)]]));
    copies.get('node1/eth0')!.push('node1/eth0.ns');
    for (const order of [[...files, ...extra], [...extra, ...files].reverse()]) {
      const t = traceFiles(order, { vxlanPorts: [4789] });
      const labels = t.result.order.points.map((i) => t.labels[i]!);
      // The primer's path is kept in order around the extra points ...
      expect(labels.filter((l) => primer.includes(l))).toEqual(primer);
      // ... every copy sits beside its interface, between that interface's neighbours ...
      for (const group of copies.values()) {
        const places = group.map((l) => labels.indexOf(l)).sort((a, b) => a - b);
        expect(places[places.length - 1]! - places[0]!, group.join(' ')).toBe(group.length - 1);
      }
      // ... and the bridge port, captured only by -i any, between the pod and the bridge.
      expect(labels.indexOf(anyLabel('p2p-4789', 'veth1b'))).toBe(labels.indexOf('ns1/veth1a') + 1);
    }
  });
});

describe('trace: flows, NAT and losses', () => {
  it('follows the HTTP flow of flannel-8472 both ways over all eight points, nothing lost', () => {
    const t = scenario('flannel-8472');
    const tcp = t.result.flows.filter((f) => f.name.startsWith('TCP'));
    expect(tcp.map((f) => f.name)).toEqual([expect.stringMatching(/^TCP 10\.244\.1\.2:\d+ \u2192 10\.244\.2\.2:80$/), expect.stringMatching(/^TCP 10\.244\.2\.2:80 \u2192 10\.244\.1\.2:\d+$/)]);
    for (const flow of tcp) {
      expect(flow.path).toHaveLength(8);
      expect(flow.lost).toBe(0);
      expect([...flow.vnis]).toEqual([1]);
      // Every packet of the connection crossed every hop.
      expect(flow.hops.map((h) => h.packets)).toEqual(Array(7).fill(flow.packets));
      expect(flow.hops.map((h) => describeChanges(h.changes, [...h.varying]))[3]).toBe('unchanged');
    }
    expect(tcp[0]!.packets + tcp[1]!.packets).toBe(12); // handshake, GET, response, ACKs, FINs
    expect(t.losses.total).toBe(0);
  });

  it('matches service-nat through the DNAT and SNAT and reports the rewrites', () => {
    const t = scenario('service-nat');
    const request = t.result.flows.find((f) => f.name.startsWith('TCP 10.244.1.2:') && f.name.includes('10.96.'))!;
    expect(request, 'the client flow, named as the client sees it (to the ClusterIP)').toBeDefined();
    expect(request.path).toHaveLength(8);
    const hops = request.hops.map((h) => h.changes);
    const dnat = hops[0]!.filter((c) => c.field === 'ip.dst' || c.field === 'tcp.dstport');
    expect(dnat).toEqual([
      { field: 'ip.dst', from: expect.stringMatching(/^10\.96\./), to: '10.244.2.2' },
      { field: 'tcp.dstport', from: 80, to: expect.any(Number) },
    ]);
    expect(hops[1]!.some((c) => c.field === 'ip.src' && c.from === '10.244.1.2')).toBe(true); // masquerade to the flannel.1 address
    expect(t.losses.total).toBe(0);
    for (const flow of t.result.flows.filter((f) => f.name.startsWith('TCP'))) expect(flow.lost).toBe(0);
  });


  it('says the DNAT varies over the direction\'s first hop, where the ARP request it shares with the TCP flow was not rewritten', () => {
    const t = scenario('service-nat');
    const along = t.result.directions.find((d) => d.path[0] === t.result.order.points[0])!;
    const labels = t.result.points.map((p) => p.point.label);
    const first = along.hops[0]!;
    expect([labels[first.from], labels[first.to]]).toEqual(['ns1/veth1a', 'node1/cni0']);
    // The client's ARP request and the TCP packets to the ClusterIP both cross it.
    const arp = t.result.flows.find((f) => f.name.startsWith('ARP who-has') && f.path[0] === first.from)!;
    const request = t.result.flows.find((f) => f.name.startsWith('TCP 10.244.1.2:'))!;
    expect(first.packets).toBe(arp.packets + request.packets);
    expect(first.changes).toEqual([]);
    expect([...first.varying]).toEqual(['ip.dst', 'tcp.dstport']);
    expect(describeChanges(first.changes, [...first.varying])).toBe('varies: ip.dst, tcp.dstport');
  });

  it('names the loss scenario\'s lost requests (seq 2 and 4) between node2/eth0 and node2/vxlan11, and nothing else', () => {
    const t = scenario('loss');
    const truth = readManifest('loss').loss!.requests;
    const lost = t.losses.all;
    expect(lost).toHaveLength(1);
    expect([t.labels[lost[0]!.after], t.labels[lost[0]!.before]]).toEqual(['node2/eth0', 'node2/vxlan11']);
    expect(lost[0]!.packets.map((p) => p.name)).toEqual(
      truth.filter((r) => r.lostBetween !== undefined).map((r) => `echo request seq ${r.icmpSeq}, ip id ${r.ipId}`),
    );
  });

  it('calls no packet lost in the scenarios where nothing was dropped, and only the DF ping in mtu', () => {
    for (const name of ['p2p-4789', 'flannel-8472', 'custom-4899', 'service-nat']) expect(scenario(name).losses.total, name).toBe(0);
    const mtu = scenario('mtu');
    expect(mtu.losses.all.map((g) => [g.flow.name, mtu.labels[g.after], mtu.labels[g.before], g.count])).toEqual([
      [expect.stringMatching(/^ICMP 10\.244\.1\.2 \u2192 10\.244\.2\.2 id \d+$/), 'node1/br0', 'node1/vxlan11', 1],
    ]);
    // The oversized packets without DF were split at the VXLAN device, not lost.
    expect(mtu.packets.filter((p) => p.fragmented !== null).map((p) => mtu.labels[p.fragmented!.before]).sort()).toEqual(['node1/vxlan11', 'node2/vxlan11']);
  });

  it('offload: loses no byte of the download where node2/eth0 cut the server\'s segments and node1/flannel.1 joined them', () => {
    const t = scenario('offload');
    expect(t.losses.total).toBe(0);
    const download = t.packets.filter((p) => p.flow.name.startsWith('TCP 10.244.2.2:80') && p.sightings[0]!.sighting.payloadLength > 0);
    // The cut happened: the segments before node2/eth0 are not those after it.
    // The server's large segments were cut at node2/eth0 and are seen again, joined, from
    // node1/flannel.1 on; the pieces went from node2/eth0 to node1/eth0 and were joined there.
    // Both were first resegmented over the hop into node2/eth0.
    const hop = (p: TracedPacket) => [t.labels[p.resegmented!.after], t.labels[p.resegmented!.before]];
    const points = (p: TracedPacket) => p.sightings.map((s) => t.labels[s.sighting.point]);
    const large = download.filter((p) => p.sightings[0]!.sighting.payloadLength > 1400);
    const cut = download.filter((p) => !points(p).includes('ns2/veth2a'));
    expect(large.length).toBeGreaterThan(0);
    expect(cut.length).toBeGreaterThan(large.length);
    for (const p of large) expect([hop(p), p.missed]).toEqual([['node2/flannel.1', 'node2/eth0'], []]);
    for (const p of cut) expect([points(p), hop(p), p.lost]).toEqual([['node2/eth0', 'node1/eth0'], ['node2/flannel.1', 'node2/eth0'], null]);
    const resegmented = download.filter((p) => p.resegmented !== null);
    expect(resegmented).toHaveLength(large.length + cut.length);
    expect(t.result.flows.reduce((n, f) => n + f.resegmented, 0)).toBe(resegmented.length);
    // Every byte of the response is seen at every point, whatever the segments.
    const bytesAt = (label: string) => {
      const ranges = download.flatMap((p) => p.sightings.filter((s) => t.labels[s.sighting.point] === label).map(({ sighting: s }) => [s.seq, s.seq + s.payloadLength] as const));
      ranges.sort((a, b) => a[0] - b[0]);
      const joined: [number, number][] = [];
      for (const [start, end] of ranges) {
        const last = joined[joined.length - 1];
        if (last !== undefined && start <= last[1]) last[1] = Math.max(last[1], end);
        else joined.push([start, end]);
      }
      return joined;
    };
    const atServer = bytesAt('ns2/veth2a');
    expect(atServer).toHaveLength(1);
    expect(atServer[0]![1] - atServer[0]![0]).toBeGreaterThan(40_000);
    for (const label of t.labels) expect(bytesAt(label), label).toEqual(atServer);
  });

  it('decides the same losses, fragments and missed points when flows count for losses only (as diff asks)', () => {
    for (const name of SCENARIOS) {
      const files = scenarioFiles(name).map(parsePointArgument);
      const vxlanPorts = [readManifest(name).vxlan.udpPort];
      const verdicts = (decided: { journey: { id: number }; lost: unknown; fragmented: unknown; resegmented: unknown; missed: readonly number[] }) =>
        JSON.stringify([decided.journey.id, decided.lost, decided.fragmented, decided.resegmented, decided.missed]);
      const full: string[] = [];
      const fullResult = trace(files, { vxlanPorts, onDecided: (d) => full.push(verdicts(d)) });
      const lean: string[] = [];
      const leanResult = trace(files, { vxlanPorts, flowsForLossesOnly: true, onDecided: (d) => lean.push(verdicts(d)) });
      expect(lean, name).toEqual(full);
      expect(leanResult.flows.map((f) => [f.name, f.lost, f.path]), name).toEqual(fullResult.flows.map((f) => [f.name, f.lost, f.path]));
      // What it leaves out: the hops' shared changes and medians, and the direction totals.
      expect(leanResult.flows.flatMap((f) => f.hops.flatMap((h) => h.changes)), name).toEqual([]);
      expect(leanResult.directions.map((d) => d.packets), name).toEqual([0, 0]);
    }
  });

  it('decodes nothing on 4899 unless told, and then follows custom-4899 through the tunnel', () => {
    const t = scenario('custom-4899');
    const icmp = t.result.flows.find((f) => f.name.startsWith('ICMP 10.244.1.2'))!;
    expect(icmp.path.map((p) => t.labels[p])).toEqual([
      'ns1/veth1a',
      'node1/br0',
      'node1/vxlan-test',
      'node1/eth0',
      'node2/eth0',
      'node2/vxlan-test',
      'node2/br0',
      'ns2/veth2a',
    ]);
    expect([...icmp.vnis]).toEqual([10001]);
    const blind = traceFiles(scenarioFiles('custom-4899'), { vxlanPorts: [4789] });
    const unseen = blind.result.flows.find((f) => f.name.startsWith('ICMP 10.244.1.2'))!;
    expect(unseen.path.map((p) => blind.labels[p])).not.toContain('node1/eth0');
  });
});

describe('trace: capture points', () => {
  it('gives each interface of a multi-interface pcapng a point of its own', () => {
    const dir = join(FIXTURES, 'p2p-4789');
    const others = scenarioFiles('p2p-4789').filter((f) => !/node1-(br0|vxlan11|eth0)\.pcap$/.test(f));
    const t = traceFiles([join(dir, 'node1-multi.pcapng'), ...others], { vxlanPorts: [4789] });
    expect(t.labels.slice(0, 3).sort()).toEqual(['node1/br0', 'node1/eth0', 'node1/vxlan11']);
    const separate = scenario('p2p-4789');
    // The same packets, the same path and the same header facts as with one file per interface.
    const facts = (x: Traced) =>
      x.packets.map((p) => p.sightings.map((s) => `${x.labels[s.sighting.point]} ${s.sighting.ttl} ${s.sighting.length} ${s.sighting.vni}`).join(' | ')).sort();
    expect(facts(t)).toEqual(facts(separate));
    expect(t.result.order.points.map((i) => t.labels[i])).toEqual(separate.result.order.points.map((i) => separate.labels[i]));
  });

  describe('a pcapng that describes an interface only when its first packet comes', () => {
    // node1's br0, vxlan11 and eth0 in one pcapng, vxlan11 and eth0 described after packets.
    const dir = join(FIXTURES, 'p2p-4789');
    const late = join(scratchDir('late-idb'), 'node1-late.pcapng');
    writeLateInterfacePcapng(['node1-br0.pcap', 'node1-vxlan11.pcap', 'node1-eth0.pcap'].map((f) => join(dir, f)), late);
    const others = scenarioFiles('p2p-4789').filter((f) => !/node1-(br0|vxlan11|eth0)\.pcap$/.test(f));
    const framesAt = (t: Traced) => new Map(t.result.points.map((p) => [p.point.label, p.frames]));

    it('gives each interface its point, as if all were described first', () => {
      const t = traceFiles([late, ...others], { vxlanPorts: [4789] });
      const separate = scenario('p2p-4789');
      expect(framesAt(t)).toEqual(framesAt(separate));
      expect(t.result.order.points.map((i) => t.labels[i])).toEqual(separate.result.order.points.map((i) => separate.labels[i]));
      expect(t.losses.total).toBe(0);
      expect(t.result.warnings).toEqual([]);
    });

    it('leaves out, and warns of, the interfaces described after the sample, and loses nothing for them', () => {
      const t = traceFiles([late, ...others], { vxlanPorts: [4789], sampleFrames: 2 });
      // The first two frames are br0's: the file stands for br0 alone.
      expect(framesAt(t).get('node1/late')).toBe(framesAt(scenario('p2p-4789')).get('node1/br0'));
      expect(t.labels.filter((l) => l.startsWith('node1/'))).toEqual(['node1/late']);
      expect(t.result.warnings.map((w) => w.message)).toEqual(
        ['vxlan11', 'eth0'].map((name) => `interface ${name} first appears after the first 2 frames: its frames are left out of the trace (raise --sample to include them)`),
      );
      expect(t.losses.total).toBe(0);
    });

    it('keeps only the interface a label names', () => {
      // What each packet looked like at a point: vxlan11 has the routed TTL, br0 the one before.
      const seenAt = (t: Traced, label: string) =>
        t.packets.flatMap((p) => p.sightings.filter((s) => t.labels[s.sighting.point] === label).map(({ sighting: s }) => `ttl ${s.ttl} len ${s.length}`)).sort();
      const separate = scenario('p2p-4789');
      for (const name of ['br0', 'vxlan11']) {
        const t = traceFiles([`node1/${name}=${late}`, ...others], { vxlanPorts: [4789] });
        expect(t.labels.filter((l) => l.startsWith('node1/'))).toEqual([`node1/${name}`]);
        expect(seenAt(t, `node1/${name}`)).toEqual(seenAt(separate, `node1/${name}`));
        expect(t.result.warnings).toEqual([]);
      }
    });
  });

  it('takes explicit labels and a given --path', () => {
    const files = scenarioFiles('loss');
    const labelled = files.map((f) => `${basename(f, '.pcap').replace('-', '/')}=${f}`.replace(/^node(\d)\//, 'host$1/'));
    const t = traceFiles(labelled, { vxlanPorts: [4789], path: ['ns1/veth1a', 'host1/br0', 'host1/vxlan11', 'host1/eth0', 'host2/eth0', 'host2/vxlan11', 'host2/br0', 'ns2/veth2a'] });
    expect(t.result.order.source).toBe('given');
    expect(t.losses.total).toBe(2);
    expect(t.result.clock.map((c) => c.node)).toContain('host2');
    expect(() => traceFiles(files, { path: ['node1/br0', 'node9/eth0'] })).toThrow(/node9\/eth0.*not a capture point/);
    expect(() => traceFiles(files, { path: ['node1/br0'] })).toThrow(/leaves out/);
  });
});

describe('trace: a tcpdump -i any capture', () => {
  // node1 captured with -i any (Linux cooked capture v2) instead of per interface: the frames
  // carry their interface index and no Ethernet header, only the source MAC.
  const dir = join(FIXTURES, 'p2p-4789');
  const node1 = ['node1-br0.pcap', 'node1-vxlan11.pcap', 'node1-eth0.pcap'];
  const files = [...scenarioFiles('p2p-4789').filter((f) => !node1.includes(basename(f))), join(dir, 'node1-any.pcap')];
  const t = traceFiles(files, { vxlanPorts: [4789] });
  const straight = scenario('p2p-4789');
  const asAny = new Map(['br0', 'vxlan11', 'eth0'].map((name) => [`node1/${name}`, anyLabel('p2p-4789', name)]));

  it('is one point per interface index, in path order', () => {
    expect(t.result.points.map((p) => p.point.label).filter((l) => l.startsWith('node1/')).sort()).toEqual(
      ['veth1b', 'br0', 'vxlan11', 'eth0'].map((name) => anyLabel('p2p-4789', name)).sort(),
    );
    expect(t.result.points.every((p) => p.unidentified === 0)).toBe(true);
    const expected = ['ns1/veth1a', 'veth1b', 'br0', 'vxlan11', 'eth0', 'node2/eth0', 'node2/vxlan11', 'node2/br0', 'ns2/veth2a'];
    expect(t.result.order.points.map((i) => t.labels[i])).toEqual(expected.map((l) => (l.includes('/') ? l : anyLabel('p2p-4789', l))));
  });

  it('sees each packet where the per-interface captures saw it, with the same headers but the destination MAC, which it did not record', () => {
    expect(t.losses.total).toBe(0);
    expect(t.packets).toHaveLength(straight.packets.length);
    for (const packet of straight.packets) {
      const first = packet.sightings[0]!.sighting;
      const firstLabel = straight.labels[first.point]!;
      // The same file gives the same frame numbers; in the -i any capture the packet is found by its identity.
      const label = asAny.get(firstLabel);
      const twin =
        label === undefined
          ? t.at(firstLabel, first.frame)?.packet
          : t.packets.find((p) => p.sightings.some((s) => t.labels[s.sighting.point] === label && s.sighting.identity === first.identity));
      expect(twin, packet.flow.name).toBeDefined();
      expect(twin!.sightings).toHaveLength(packet.sightings.length + (packet.sightings.some((s) => straight.labels[s.sighting.point] === 'node1/br0') ? 1 : 0));
      for (const { sighting } of packet.sightings) {
        const at = asAny.get(straight.labels[sighting.point]!) ?? straight.labels[sighting.point]!;
        const seen = twin!.sightings.find((s) => t.labels[s.sighting.point] === at)!.sighting;
        // The cooked header (20 bytes) counts as the Ethernet header (14) it stands for.
        expect({ ttl: seen.ttl, vni: seen.vni, length: seen.length, ethSrc: seen.ethSrc, ipId: seen.ipId }).toEqual({
          ttl: sighting.ttl,
          vni: sighting.vni,
          length: sighting.length,
          ethSrc: sighting.ethSrc,
          ipId: sighting.ipId,
        });
        expect(seen.ethDst === sighting.ethDst || (asAny.has(straight.labels[sighting.point]!) && seen.ethDst === UNRECORDED)).toBe(true);
      }
    }
    // Changes name no destination MAC to or from the -i any points: it was not recorded, not
    // changed. The request enters node1 unchanged, is routed at vxlan11 and leaves unchanged.
    const request = t.packets.find((p) => p.flow.name.startsWith('ICMP 10.244.1.2'))!;
    const changesAt = (label: string) => request.sightings.find((s) => t.labels[s.sighting.point] === label)!.changes.map((c) => c.field);
    expect(changesAt(anyLabel('p2p-4789', 'veth1b'))).toEqual([]);
    expect(changesAt(asAny.get('node1/vxlan11')!)).toEqual(['eth.src', 'ip.ttl']);
    expect(changesAt('node2/eth0')).toEqual([]);
  });

  it('names the points after the interfaces when given the node\'s links (--links)', () => {
    const names = new Map(readManifest('p2p-4789').topology.interfaces.filter((i) => i.namespace === 'node1').map((i) => [i.ifindex, i.name]));
    const named = traceFiles(files, { vxlanPorts: [4789], interfaceNames: new Map([['node1', names]]) });
    const primer = ['ns1/veth1a', 'node1/veth1b', 'node1/br0', 'node1/vxlan11', 'node1/eth0', 'node2/eth0', 'node2/vxlan11', 'node2/br0', 'ns2/veth2a'];
    expect(named.result.order.points.map((i) => named.labels[i])).toEqual(primer);
    expect(named.packets.map((p) => p.sightings.length)).toEqual(t.packets.map((p) => p.sightings.length));
  });

  it('leaves out, and warns of, an interface first seen after the sample', () => {
    const late = traceFiles(files, { vxlanPorts: [4789], sampleFrames: 2 });
    const node1 = late.result.points.filter((p) => p.point.node === 'node1');
    expect(node1.map((p) => p.point.label).sort()).toEqual([anyLabel('p2p-4789', 'br0'), anyLabel('p2p-4789', 'veth1b')].sort());
    const warnings = late.result.warnings.map((w) => w.message).join('\n');
    for (const name of ['vxlan11', 'eth0']) {
      expect(warnings).toContain(`interface index ${ifindexOf('p2p-4789', name)} first appears after the first 2 frames`);
    }
  });
});

describe('trace: a flow whose first packet was seen at one point only', () => {
  // The first echo reply of p2p-4789 is dropped right after its first point: it is in ns2/veth2a
  // and cut out of every other capture. The next reply comes a second later, long after the
  // first was decided, so only the requests' flow can say where that first reply should have gone.
  const dissect = createDissector({ vxlanPorts: [4789] });
  const isEchoReply = (packet: ReturnType<typeof dissect>, seq: number) => {
    const icmp = packet.transport;
    return icmp?.protocol === 'icmp' && icmp.type === 0 && icmp.hasIdentifier && icmp.seq === seq;
  };
  const dir = scratchDir('first-reply-');
  const files = scenarioFiles('p2p-4789').map((file) => {
    const copy = join(dir, basename(file));
    let dropped = false;
    writeEdited(file, copy, (frame) => {
      if (basename(file) === 'ns2-veth2a.pcap' || dropped || !isEchoReply(dissect(frame), 1)) return frame;
      dropped = true;
      return null;
    });
    return copy;
  });
  const t = traceFiles(files, { vxlanPorts: [4789] });
  const straight = scenario('p2p-4789');
  const replies = t.packets.filter((p) => p.sightings[0]!.sighting.typeOrFlags === 0 && p.flow.name.startsWith('ICMP'));

  it('goes against the path, as later packets show, and is laid out the way it travels', () => {
    const pathOf = (x: Traced, p: TracedPacket) => p.flow.path.map((i) => x.labels[i]);
    const straightReply = straight.packets.find((p) => p.sightings[0]!.sighting.typeOrFlags === 0 && p.flow.name.startsWith('ICMP'))!;
    expect(replies.length).toBeGreaterThan(1);
    expect(replies[0]!.flow.forward).toBe(false);
    expect(pathOf(t, replies[0]!)).toEqual(pathOf(straight, straightReply));
    expect(pathOf(t, replies[0]!)[0]).toBe('ns2/veth2a');
  });

  it('is lost between its first point and the next, and the replies after it are not lost', () => {
    expect(replies[0]!.sightings.map((s) => t.labels[s.sighting.point])).toEqual(['ns2/veth2a']);
    expect(replies[0]!.lost).toEqual({ after: t.labels.indexOf('ns2/veth2a'), before: t.labels.indexOf('node2/br0') });
    for (const reply of replies.slice(1)) {
      expect(reply.lost).toBeNull();
      expect(reply.sightings).toHaveLength(files.length);
    }
    expect(t.losses.total).toBe(1);
  });
});

describe('trace: a flow first guessed the wrong way', () => {
  // The path given the other way round (ns2 first), and the first echo request cut out of every
  // capture but ns1/veth1a. Its flow starts with a packet seen at one point and nothing the other
  // way yet, so it is guessed to go along the path; its reply, seen everywhere, shows the reverse
  // flow's direction, and the request's is then guessed against it, in time for the first
  // request's loss to be decided by the reply's path, backwards.
  const dissect = createDissector({ vxlanPorts: [4789] });
  const dir = scratchDir('first-request-');
  const files = scenarioFiles('p2p-4789').map((file) => {
    const copy = join(dir, basename(file));
    let dropped = false;
    writeEdited(file, copy, (frame) => {
      const icmp = dissect(frame).transport;
      const firstRequest = icmp?.protocol === 'icmp' && icmp.type === 8 && icmp.hasIdentifier && icmp.seq === 1;
      if (basename(file) === 'ns1-veth1a.pcap' || dropped || !firstRequest) return frame;
      dropped = true;
      return null;
    });
    return copy;
  });
  const primer = ['ns1/veth1a', 'node1/br0', 'node1/vxlan11', 'node1/eth0', 'node2/eth0', 'node2/vxlan11', 'node2/br0', 'ns2/veth2a'];
  const t = traceFiles(files, { vxlanPorts: [4789], path: [...primer].reverse() });
  const requests = t.packets.filter((p) => p.sightings[0]!.sighting.typeOrFlags === 8 && p.flow.name.startsWith('ICMP'));

  it('turns its flow against the given path and lays it out the way it travels', () => {
    expect(requests[0]!.flow.forward).toBe(false);
    expect(requests[0]!.flow.path.map((i) => t.labels[i])).toEqual(primer);
  });

  it('calls the first request lost right after ns1/veth1a, and nothing else', () => {
    expect(requests[0]!.sightings.map((s) => t.labels[s.sighting.point])).toEqual(['ns1/veth1a']);
    expect(requests[0]!.lost).toEqual({ after: t.labels.indexOf('ns1/veth1a'), before: t.labels.indexOf('node1/br0') });
    expect(t.losses.total).toBe(1);
  });
});

describe('trace: replies behind a Service\'s NAT, dropped at their first hop', () => {
  // service-nat with every reply of the HTTP connection cut out of every capture but the
  // server's veth: a SYN-ACK that never leaves the backend pod, the classic broken Service. The
  // replies start out as 10.244.2.2:8080 → 10.244.1.0:<masquerade port>, which is not the
  // client's flow (10.244.1.2 → 10.96.0.10:80) turned round: only the client's packets as NAT
  // left them at their last point are. Without NAT the same drop is found lost (the p2p-4789
  // case above); behind NAT it was silent, and the replies' flow was guessed to go along the path.
  const dissect = createDissector({ vxlanPorts: [8472] });
  const isReply = (frame: Frame) => {
    const tcp = dissect(frame).transport;
    return tcp?.protocol === 'tcp' && (tcp.srcPort === 8080 || tcp.srcPort === 80);
  };
  const dir = scratchDir('nat-replies-');
  const files = scenarioFiles('service-nat').map((file) => {
    const copy = join(dir, basename(file));
    writeEdited(file, copy, (frame) => (basename(file) !== 'ns2-veth2a.pcap' && isReply(frame) ? null : frame));
    return copy;
  });
  const t = traceFiles(files);
  const straight = scenario('service-nat');
  const repliesIn = (x: Traced) => x.packets.filter((p) => p.flow.name.startsWith('TCP 10.244.2.2:8080'));
  const replies = repliesIn(t);

  it('lays the replies\' flow out against the path, the way the client\'s requests came', () => {
    expect(replies.length).toBe(repliesIn(straight).length);
    expect(replies.length).toBeGreaterThan(0);
    expect(replies[0]!.flow.forward).toBe(false);
    expect(replies[0]!.flow.directionKnown, 'no reply was seen at two points').toBe(false);
    expect(replies[0]!.flow.path.map((i) => t.labels[i])).toEqual(['ns2/veth2a']);
  });

  it('calls every reply lost between ns2/veth2a and node2/cni0, and nothing else', () => {
    for (const reply of replies) {
      expect(reply.sightings.map((s) => t.labels[s.sighting.point])).toEqual(['ns2/veth2a']);
      expect(reply.lost).toEqual({ after: t.labels.indexOf('ns2/veth2a'), before: t.labels.indexOf('node2/cni0') });
    }
    expect(t.losses.total).toBe(replies.length);
  });
});

describe('trace: an overlay where every ping stops at one hop', () => {
  // Nothing gets past node2/eth0 and nothing comes back: no packet of the flow, nor any other to
  // the same place, shows where the pings should have gone next, so by the rule for losses none
  // is lost. The flow asked for replies and got none: that is what the report says.
  const t = traceFiles(writeStoppedPings(scratchDir('stopped-pings-')), { vxlanPorts: [4789] });
  const pings = t.result.flows.filter((f) => f.name.startsWith('ICMP 10.244.1.2 \u2192 10.244.2.2'));

  it('calls the pings\' flow unanswered, last seen at node2/eth0, and no other flow', () => {
    expect(pings).toHaveLength(1);
    expect(pings[0]!.unanswered).toBe(true);
    expect(pings[0]!.packets).toBeGreaterThan(1);
    expect(t.labels[pings[0]!.path[pings[0]!.path.length - 1]!]).toBe('node2/eth0');
    expect(t.result.flows.filter((f) => f.unanswered)).toEqual(pings);
    expect(t.losses.total).toBe(0);
  });

  it('finds no unanswered flow in the lab scenarios but mtu\'s ping with DF, answered by "fragmentation needed", ttl\'s probes and reject-4789\'s rejected ping', () => {
    const unanswered = Object.fromEntries(SCENARIOS.map((name) => [name, scenario(name).result.flows.filter((f) => f.unanswered).map((f) => f.name)]));
    const mtuPing = scenario('mtu').result.flows.find((f) => f.name.startsWith('ICMP 10.244.1.2 \u2192 10.244.2.2 id') && f.lost > 0)!;
    expect(mtuPing.packets).toBe(1);
    // service-nat's connection is answered: its replies are linked through the NAT.
    // ttl's probes got "time exceeded", not a reply, as traceroute's do.
    const probes = scenario('ttl').result.flows.filter((f) => f.expired > 0).map((f) => f.name);
    expect(probes).toHaveLength(2);
    // reject-4789's second ping, refused at node2 with "port unreachable".
    const rejected = scenario('reject-4789').result.flows.filter((f) => f.icmpErrors > 0).map((f) => f.name);
    expect(rejected).toHaveLength(1);
    const expected: Record<string, string[]> = { mtu: [mtuPing.name], ttl: probes, 'reject-4789': rejected };
    expect(unanswered).toEqual(Object.fromEntries(SCENARIOS.map((name) => [name, expected[name] ?? []])));
  });
});

describe('trace: a packet is never lost (or fragmented or expired) before a point it was seen at', () => {
  // reject-4789 with node2's clock taken 250-750 ns early: node2's port unreachable is then seen
  // at both eth0s at once, and no flow shows which way it went. A clean-clone CI run met this
  // on a fresh lab capture: the error, in the order of its times, came "last" to node1/eth0,
  // the first point of its flow's guessed path, and was called lost before node2/eth0.
  // (A resegmented piece may name the point it was first seen at: its bytes came there in other packets.)
  const before = (p: TracedPacket) => [p.lost, p.fragmented, p.expired].filter((hop) => hop !== null).map((hop) => hop!.before);
  it.each([
    ...SCENARIOS.map((name) => [name, 0] as const),
    ['reject-4789', -250],
    ['reject-4789', -500],
    ['reject-4789', -750],
  ])('%s, node2 %i ns', (name, offsetNs) => {
    const t = traceScenario(name, offsetNs === 0 ? {} : { clockOffsets: new Map([['node2', offsetNs]]) });
    const wrong = t.packets.filter((p) => before(p).some((point) => p.sightings.some((s) => s.sighting.point === point)));
    expect(wrong.map((p) => `${p.flow.name}: ${p.sightings.map((s) => t.labels[s.sighting.point]).join(' ')} lost before ${t.labels[p.lost?.before ?? -1]}`)).toEqual([]);
    expect(t.packets.length).toBeGreaterThan(0);
  });
});

describe('trace: a request the captures stopped before any reply could be seen', () => {
  // p2p-4789's captures stopped as ns2 sent the first echo reply: the request is everywhere, the
  // reply nowhere, and every capture ends some µs after the request. Whether a reply came after
  // the captures stopped, they cannot tell; calling the flow unanswered would fail a CI run
  // (--fail-on-no-reply) that only stopped tcpdump at an unlucky moment.
  const pingsOf = (t: Traced) => t.result.flows.filter((f) => f.name.startsWith('ICMP 10.244.1.2 \u2192 10.244.2.2'));

  it('is too late to tell, not unanswered, when every capture on its path stopped within the window', () => {
    const t = traceFiles(writeStoppedBeforeFirstReply(scratchDir('stopped-before-reply-')), { vxlanPorts: [4789] });
    const pings = pingsOf(t);
    expect(pings).toHaveLength(1);
    expect(pings[0]).toMatchObject({ packets: 1, asksForReply: true, reverse: null, askedAtCaptureEnd: true, unanswered: false });
    expect(pings[0]!.path.map((p) => t.labels[p])).toContain('ns2/veth2a');
    expect(t.result.flows.filter((f) => f.unanswered)).toEqual([]);
    expect(unansweredText(t.result)).toBe(
      `Too late to tell: 1 flow asked less than 200 ms (--window) before the captures stopped, and no reply came before then: ${pings[0]!.name}.`,
    );
  });

  it('is unanswered when one capture on its path ran on for the window and saw no reply', () => {
    // ns1's capture goes on to its end (two more requests, 200 and 400 ms later), with no reply.
    const t = traceFiles(writeStoppedBeforeFirstReply(scratchDir('ns1-ran-on-'), ['ns1-veth1a.pcap']), { vxlanPorts: [4789] });
    const pings = pingsOf(t);
    expect(pings).toHaveLength(1);
    expect(pings[0]).toMatchObject({ packets: 3, reverse: null, askedAtCaptureEnd: false, unanswered: true });
    expect(unansweredText(t.result)).toMatch(/^No reply seen to 1 flow that asked for one .*: ICMP 10\.244\.1\.2 \u2192 10\.244\.2\.2 id \d+ \(last seen at [^)]+\)\.$/);
  });
});

describe('trace: ICMP errors and the packets they quote', () => {
  /** tshark's layers for a frame of a scenario's capture at `label` (the lab's tshark view, fixtures/<name>/*.tshark.json). */
  const tsharkLayers = (name: string, label: string, frame: number) => {
    const frames = JSON.parse(readFileSync(join(FIXTURES, name, `${label.replace('/', '-')}.pcap.tshark.json`), 'utf8'));
    return frames[frame - 1]._source.layers;
  };
  const isIcmpError = (p: TracedPacket) => p.sightings[0]!.sighting.proto === 1 && [3, 11].includes(p.sightings[0]!.sighting.typeOrFlags);

  /**
   * The error, its sender and the innermost quoted IPv4 and ICMP headers in tshark's JSON. A quote
   * holding only IPv4 and ICMP is nested in the error's ICMP layer; one holding a VXLAN packet
   * (reject-4789's port unreachable) puts the quoted inner headers beside the error's own, in
   * lists: IPv4 [own, quoted inner] and ICMP [error, quoted inner].
   */
  const tsharkError = (layers: Record<string, any>) => {
    const icmps = [layers.icmp].flat();
    const ips = [layers.ip].flat();
    const error = icmps[0];
    return { error, from: ips[0]['ip.src'], ip: ips.length > 1 ? ips[ips.length - 1] : error.ip, icmp: icmps.length > 1 ? icmps[icmps.length - 1] : error.icmp };
  };

  it.each([
    ['mtu', 1],
    ['ttl', 2],
    ['reject-4789', 2],
  ] as const)('%s: each of its %i ICMP errors is linked to the packet tshark shows it quoting (IP ID, echo id and sequence)', (name, count) => {
    const t = scenario(name);
    const byId = new Map(t.packets.map((p) => [p.id, p]));
    const errors = t.packets.filter(isIcmpError);
    expect(errors).toHaveLength(count);
    for (const error of errors) {
      const first = error.sightings[0]!.sighting;
      const seen = tsharkError(tsharkLayers(name, t.labels[first.point]!, first.frame));
      expect(error.quotes).not.toBeNull();
      const quoted = byId.get(error.quotes!)!.sightings[0]!.sighting;
      const quote = { ip: seen.ip, icmp: seen.icmp };
      expect({ ipId: quoted.ipId, ident: quoted.srcPort, seq: quoted.seq }).toEqual({
        ipId: Number(quote.ip['ip.id']),
        ident: Number(quote.icmp['icmp.ident']),
        seq: Number(quote.icmp['icmp.seq']),
      });
      const note = byId.get(error.quotes!)!.icmpError!;
      expect({ ...note, from: formatIpv4(note.from), point: t.labels[note.point] }).toEqual({
        packet: error.id,
        type: Number(seen.error['icmp.type']),
        code: Number(seen.error['icmp.code']),
        from: seen.from,
        point: t.labels[first.point],
        frame: first.frame,
        mtu: seen.error['icmp.mtu'] === undefined ? null : Number(seen.error['icmp.mtu']),
      });
    }
    // Nothing else is said to have drawn an error.
    expect(t.packets.filter((p) => p.icmpError !== null)).toHaveLength(count);
  });

  it.each(['mtu', 'ttl', 'reject-4789'])('%s: each flow of ICMP errors names the flows of the packets they quote, and no other flow names any', (name) => {
    const t = scenario(name);
    const byId = new Map(t.packets.map((p) => [p.id, p]));
    const errorFlows = new Set(t.packets.filter(isIcmpError).map((p) => p.flow));
    expect(errorFlows.size).toBeGreaterThan(0);
    for (const flow of t.result.flows) {
      const quoted = t.packets.filter((p) => p.flow === flow && p.quotes !== null).map((p) => byId.get(p.quotes!)!.flow);
      expect(flow.quotedFlows).toEqual([...new Set(quoted)]);
      expect(flow.quotedFlows.length > 0).toBe(errorFlows.has(flow));
      if (flow.quotedFlows.length > 0) expect(flowText(flow, t.labels, t.losses.all)).toContain(`\n  \u21aa about ${flow.quotedFlows[0]!.name}`);
    }
  });

  it('mtu: the ping with DF is lost where node1 routes it into vxlan11, and node1\'s br0 address said "fragmentation needed" with vxlan11\'s MTU', () => {
    const t = scenario('mtu');
    const manifest = readManifest('mtu');
    const iface = (name: string) => manifest.topology.interfaces.find((i) => i.namespace === 'node1' && i.name === name)!;
    const lost = t.packets.filter((p) => p.lost !== null);
    expect(lost).toHaveLength(1);
    expect({ after: t.labels[lost[0]!.lost!.after], before: t.labels[lost[0]!.lost!.before] }).toEqual({ after: 'node1/br0', before: 'node1/vxlan11' });
    const note = lost[0]!.icmpError!;
    expect({ type: note.type, code: note.code, mtu: note.mtu, from: formatIpv4(note.from) }).toEqual({
      type: 3,
      code: 4,
      mtu: iface('vxlan11').mtu,
      from: iface('br0').addresses[0]!.split('/')[0],
    });
    expect(lost[0]!.flow.icmpError).toBe(note);
    expect(t.losses.all[0]!.packets[0]!.icmpError).toBe(note);
  });

  it('ttl captured only at the two pods: both probes expired, the one with TTL 2 at ns1 too, as node2\'s "time exceeded" says', () => {
    // With a TTL of 2 at its last point, the rule for expiry (TTL 1 left, the next hop routes)
    // cannot tell: two routers lie between ns1 and ns2. The router's error can.
    const t = traceFiles(['ns1-veth1a.pcap', 'ns2-veth2a.pcap'].map((f) => join(FIXTURES, 'ttl', f)));
    const probes = t.packets.filter((p) => p.icmpError !== null);
    expect(probes.map((p) => [p.sightings[p.sightings.length - 1]!.sighting.ttl, formatIpv4(p.icmpError!.from)])).toEqual([
      [1, '10.244.1.1'],
      [2, '10.244.2.0'],
    ]);
    expect(probes.map((p) => p.expired && [t.labels[p.expired.after], t.labels[p.expired.before]])).toEqual([
      ['ns1/veth1a', 'ns2/veth2a'],
      ['ns1/veth1a', 'ns2/veth2a'],
    ]);
    expect(t.losses.total).toBe(0);
  });
});

describe('trace: packets lost for being too big', () => {
  it('mtu: the ping with DF (1500 bytes) is larger than anything that got from br0 into vxlan11 (its MTU, 1450, + 14)', () => {
    const t = scenario('mtu');
    t.losses.judgeSizes(t.result.hopSizes);
    const vxlanMtu = readManifest('mtu').topology.interfaces.find((i) => i.namespace === 'node1' && i.name === 'vxlan11')!.mtu;
    expect(t.losses.all.map((g) => ({ after: t.labels[g.after], smallest: g.smallestLength, largest: g.largestCrossed, tooBig: tooBig(g) }))).toEqual([
      { after: 'node1/br0', smallest: 1500 + 14, largest: vxlanMtu + 14, tooBig: true },
    ]);
  });

  it('loss: pings dropped at random, the same size as those that got through, are not', () => {
    const t = scenario('loss');
    t.losses.judgeSizes(t.result.hopSizes);
    expect(t.losses.all.length).toBeGreaterThan(0);
    for (const group of t.losses.all) {
      expect(group.largestCrossed).toBe(group.smallestLength);
      expect(tooBig(group)).toBe(false);
    }
  });
});

describe('trace: a capture holding every frame twice', () => {
  // node1/br0 of p2p-4789 with each frame written again right after itself, as a port mirror
  // copying both directions or a capture merged with itself gives it. Taken as packets, the
  // copies were seen at br0 only: the clocks and the order went wrong and 6 packets were "lost".
  const primer = ['ns1/veth1a', 'node1/br0', 'node1/vxlan11', 'node1/eth0', 'node2/eth0', 'node2/vxlan11', 'node2/br0', 'ns2/veth2a'];
  const files = scenarioFiles('p2p-4789');
  const doubled = (againAfterNs: bigint) => {
    const dir = scratchDir('doubled-');
    return files.map((file) => {
      const copy = join(dir, basename(file));
      const writer = new PcapWriter(copy, { linkType: LinkType.EN10MB, nanosecond: true });
      for (const frame of openCapture(file)) {
        writer.write({ timestampNs: frame.timestampNs, originalLength: frame.originalLength, bytes: frame.bytes });
        if (basename(file) === 'node1-br0.pcap') writer.write({ timestampNs: frame.timestampNs + againAfterNs, originalLength: frame.originalLength, bytes: frame.bytes });
      }
      writer.close();
      return copy;
    });
  };
  const clean = traceFiles(files);
  const t = traceFiles(doubled(0n));
  const br0 = (x: Traced) => x.result.points.find((p) => p.point.label === 'node1/br0')!;

  it('leaves the copies out and traces the rest as if they were not there', () => {
    expect(br0(t).frames).toBe(2 * br0(clean).frames);
    expect(br0(t).duplicates).toBe(br0(clean).frames);
    expect(t.result.points.filter((p) => p.point.label !== 'node1/br0').every((p) => p.duplicates === 0)).toBe(true);
    expect(t.result.order.points.map((i) => t.labels[i])).toEqual(primer);
    expect(t.result.clock).toEqual(clean.result.clock);
    expect(t.result.packets).toBe(clean.result.packets);
    expect(t.losses.total).toBe(0);
    expect(t.packets.map((p) => p.sightings.length)).toEqual(clean.packets.map((p) => p.sightings.length));
  });

  it('takes the same frame again 1 ms later for another packet, as before', () => {
    expect(br0(traceFiles(doubled(1_000_000n))).duplicates).toBe(0);
  });
});

describe('trace: captures with a snap length', () => {
  it('matches what the other points saw whole from eth0 captures cut at 128 bytes (tcpdump -s 128)', () => {
    // 128 bytes keep the outer headers, VXLAN and the inner Ethernet, IPv4 and TCP headers (with
    // options), and cut the payload of every larger packet: the HTTP request and response.
    const dir = scratchDir('snaplen');
    const files = scenarioFiles('flannel-8472').map((file) => {
      if (!file.endsWith('eth0.pcap')) return file;
      const cut = join(dir, basename(file));
      writeEdited(file, cut, (frame) => ({ timestampNs: frame.timestampNs, bytes: frame.bytes.subarray(0, 128) }));
      return cut;
    });
    const t = traceFiles(files, { vxlanPorts: [8472] });
    const whole = scenario('flannel-8472');
    const paths = (x: Traced) => x.packets.map((p) => p.sightings.map((s) => `${x.labels[s.sighting.point]}#${s.sighting.frame}`).join(' '));
    expect(paths(t)).toEqual(paths(whole));
    expect(t.losses.total).toBe(0);
    // The cut frames keep their length on the wire.
    const request = t.packets.find((p) => p.flow.name.startsWith('TCP 10.244.1.2') && p.sightings[0]!.sighting.payloadLength > 0)!;
    const atEth0 = request.sightings.find((s) => t.labels[s.sighting.point] === 'node1/eth0')!.sighting;
    expect(atEth0.length).toBeGreaterThan(128);
    expect(atEth0.payloadHash).toBe(NONE);
  });

  it('counts the frames a shorter snap length (tcpdump -s 96) cut inside their headers', () => {
    const original = join(FIXTURES, 'flannel-8472', 'node1-eth0.pcap');
    const cut = join(scratchDir('snaplen-96'), 'node1-eth0.pcap');
    writeEdited(original, cut, (frame) => ({ timestampNs: frame.timestampNs, bytes: frame.bytes.subarray(0, 96) }));
    // From the whole frames: those whose innermost headers end past byte 96.
    const dissect = createDissector({ vxlanPorts: [8472] });
    const headersEnd = (frame: Parameters<typeof dissect>[0]) => {
      const packet = dissect(frame);
      const last = packet.transport ?? packet.innerIpv4 ?? packet.last('arp');
      return last === undefined ? 0 : last.offset + last.length;
    };
    const expected = [...openCapture(original)].filter((frame) => headersEnd(frame) > 96).length;
    expect(expected).toBeGreaterThan(0);
    const t = traceFiles([cut, join(FIXTURES, 'flannel-8472', 'node2-eth0.pcap')], { vxlanPorts: [8472] });
    expect(t.result.points.map((p) => [p.point.label, p.cut])).toEqual([
      ['node1/eth0', expected],
      ['node2/eth0', 0],
    ]);
  });
});

describe('trace: an underlay on a VLAN', () => {
  // node1's eth0 as captured on a trunk (an 802.1Q tag, VLAN 100, after the MACs); node2's
  // untagged, as behind an access port. The tag is a change of the frame, not another packet.
  const dir = join(FIXTURES, 'p2p-4789');
  const tagged = join(scratchDir('vlan'), 'node1-eth0.pcap');
  writeEdited(join(dir, 'node1-eth0.pcap'), tagged, (frame) => {
    const b = frame.bytes;
    return { timestampNs: frame.timestampNs, bytes: Uint8Array.from([...b.subarray(0, 12), 0x81, 0x00, 0x00, 100, ...b.subarray(12)]) };
  });
  const files = [join(dir, 'node1-vxlan11.pcap'), tagged, join(dir, 'node2-eth0.pcap')];
  const t = traceFiles(files, { vxlanPorts: [4789] });
  const plain = traceFiles([join(dir, 'node1-vxlan11.pcap'), join(dir, 'node1-eth0.pcap'), join(dir, 'node2-eth0.pcap')], { vxlanPorts: [4789] });

  it('matches every packet as on the untagged captures', () => {
    const paths = (x: Traced) => x.packets.map((p) => p.sightings.map((s) => `${x.labels[s.sighting.point]}#${s.sighting.frame}`).join(' '));
    expect(paths(t)).toEqual(paths(plain));
    expect(t.losses.total).toBe(0);
  });

  it('says the tag is put on with the encapsulation at node1/eth0 and taken off before node2/eth0', () => {
    const request = t.result.flows.find((f) => f.name.startsWith('ICMP 10.244.1.2'))!;
    const [encapsulation, underlay] = request.hops;
    expect(encapsulation!.changes).toContainEqual({ field: 'outer.vlan.id', from: null, to: 100 });
    expect(encapsulation!.changes).toContainEqual({ field: 'frame.len', from: 98, to: 152 });
    expect(describeChanges(encapsulation!.changes)).toMatch(/^\+ VXLAN vni 11, 10\.211\.55\.122:\d+ \u2192 10\.211\.55\.123:4789 on VLAN 100, \+54 bytes$/);
    expect(underlay!.changes).toEqual([
      { field: 'outer.vlan.id', from: 100, to: null },
      { field: 'frame.len', from: 152, to: 148 },
    ]);
    expect(describeChanges(underlay!.changes)).toBe('\u2212 outer VLAN 100, \u22124 bytes');
    // The underlay's own ARP is not in the tunnel: its one Ethernet header is the tagged one.
    const arp = t.result.flows.find((f) => f.name.startsWith('ARP who-has 10.211.55.123'))!;
    expect(arp.hops[0]!.changes).toEqual([
      { field: 'vlan.id', from: 100, to: null },
      { field: 'frame.len', from: 46, to: 42 },
    ]);
  });
});

describe('trace: clocks', () => {
  // In the run's scratch folder: removed at the end even when a filter skips these tests (and their hooks).
  const dir = scratchDir('skew-');

  it.each([
    ['loss', 2_500_000_000n],
    ['flannel-8472', -3_217_000_123n],
    ['p2p-4789', 600_000_000_000n],
  ])('%s with node2 shifted by %s ns: same matches, offset found within 100 µs', (name, shift) => {
    const target = join(dir, name);
    mkdirSync(target);
    const files = scenarioFiles(name).map((file) => {
      const copy = join(target, basename(file));
      if (basename(file).startsWith('node2-')) writeShifted(file, copy, shift);
      else writeShifted(file, copy, 0n);
      return copy;
    });
    const skewed = traceFiles(files, { vxlanPorts: [readManifest(name).vxlan.udpPort] });
    const straight = scenario(name);
    const node2 = skewed.result.clock.find((c) => c.node === 'node2')!;
    expect(node2.method).toBe('two-way');
    expect(Math.abs(node2.offsetNs - Number(shift))).toBeLessThan(100_000);
    expect(node2.uncertaintyNs!).toBeLessThan(100_000);
    const journeys = (x: Traced) => x.packets.map((p) => p.sightings.map((s) => `${x.labels[s.sighting.point]}#${s.sighting.frame}`).join(' ')).sort();
    expect(journeys(skewed)).toEqual(journeys(straight));
    expect(skewed.losses.total).toBe(straight.losses.total);
    expect(skewed.result.order.points).toEqual(straight.result.order.points);
  });

  it('takes --clock-offset as given', () => {
    const t = traceFiles(scenarioFiles('p2p-4789'), { vxlanPorts: [4789], clockOffsets: new Map([['node2', 7000]]) });
    const node2 = t.result.clock.find((c) => c.node === 'node2')!;
    expect(node2).toMatchObject({ method: 'given', offsetNs: 7000, uncertaintyNs: null });
  });
});

describe('trace: what a pcapng capture says of itself (interface statistics)', () => {
  const pingsOf = (t: Traced) => t.result.flows.filter((f) => f.name.startsWith('ICMP 10.244.1.2 \u2192 10.244.2.2'));
  /** The captures stopped before the first reply, node1/br0's as a pcapng whose statistics end `endAfterLastNs` after its last frame. */
  function stoppedWithStatistics(prefix: string, endAfterLastNs: bigint): Traced {
    const dir = scratchDir(prefix);
    const files = writeStoppedBeforeFirstReply(dir).map((file) => {
      if (!file.endsWith('/node1-br0.pcap')) return file;
      const pcapng = file.replace(/\.pcap$/, '.pcapng');
      writePcapngWithStatistics(file, pcapng, { endAfterLastNs });
      return pcapng;
    });
    return traceFiles(files, { vxlanPorts: [4789] });
  }

  it('a capture that says it ran on for a second after its last frame was capturing then: the request got no reply', () => {
    const t = stoppedWithStatistics('ran-on-', 1_000_000_000n);
    const br0 = t.result.points.find((p) => p.point.label === 'node1/br0')!;
    expect(br0.statistics).toMatchObject({ interfaceDrops: 0 });
    expect(br0.span.endNs).toBe(Number(br0.statistics!.endNs! - t.result.baseNs));
    expect(pingsOf(t)[0]).toMatchObject({ askedAtCaptureEnd: false, unanswered: true });
    expect(t.result.warnings).toEqual([]);
  });

  it('statistics that end before the last frame (frames retimed after the capture) are not used, and are warned of', () => {
    const t = stoppedWithStatistics('retimed-', -1_000_000_000n);
    const br0 = t.result.points.find((p) => p.point.label === 'node1/br0')!;
    // Its last frame's time, which the statistics put a second after their end (node1 is the reference clock).
    expect(br0.span.endNs).toBe(Number(br0.statistics!.endNs! - t.result.baseNs) + 1e9);
    expect(pingsOf(t)[0]).toMatchObject({ askedAtCaptureEnd: true, unanswered: false });
    expect(t.result.warnings.map((w) => w.message)).toEqual([
      expect.stringMatching(/^node1\/br0: its capture statistics say it ran from \S+Z to \S+Z, which does not hold its frames \(their times changed after the capture\?\): its end is taken from its last frame$/),
    ]);
  });

  it('loss: a capture at node2/eth0 that dropped 5 packets itself is named beside the losses next to it', () => {
    const dir = scratchDir('dropped-');
    const files = scenarioFiles('loss').map((file) => {
      if (!file.endsWith('/node2-eth0.pcap')) return file;
      const pcapng = join(dir, 'node2-eth0.pcapng');
      writePcapngWithStatistics(file, pcapng, { endAfterLastNs: 1_000_000n, interfaceDrops: 3n, osDrops: 2n });
      return pcapng;
    });
    const t = traceFiles(files, { vxlanPorts: [4789] });
    expect(t.losses.total).toBe(2);
    expect(t.result.points.find((p) => p.point.label === 'node2/eth0')!.statistics).toMatchObject({ interfaceDrops: 3, osDrops: 2 });
    expect(pointsText(t.result)).toMatch(/ node2\/eth0 +12 frames, 5 dropped by the capture itself \(pcapng statistics\) +\(/);
    expect(totalsText(t.result, t.losses).split('\n')).toContain(
      "The capture dropped packets itself at node2/eth0 (5), by its pcapng statistics: losses next to it may be the capture's, not the network's.",
    );
    // The same captures without the drops: no such line.
    expect(totalsText(traceScenario('loss').result, traceScenario('loss').losses)).not.toContain('dropped packets itself');
  });
});
