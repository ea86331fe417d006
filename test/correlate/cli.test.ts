import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packetName } from '../../src/correlate/describe.js';
import { formatMac } from '../../src/dissect/index.js';
import { openCapture } from '../../src/capture/open.js';
import { icmpErrorJson } from '../../src/report/trace-json-objects.js';
import { scratchDir } from '../support/craft.js';
import { FIXTURES, readManifest, REPO, scenarioFiles, traceFiles, traceScenario, writeEdited, writePcapngWithStatistics, writeStoppedBeforeFirstReply, writeStoppedPings } from './support.js';

/*
 * `vxdump trace` and `vxdump diff` as users and CI scripts run them: the documented JSON, the
 * text report's words, and the exit codes (0 fine, 1 a difference asked about, 2 bad input).
 */

function vxdump(...args: string[]): { status: number; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [join(REPO, 'bin/vxdump'), ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: run.status ?? -1, stdout: run.stdout, stderr: run.stderr };
}

const fixture = (scenario: string, file: string) => join(FIXTURES, scenario, file);

describe('vxdump trace', () => {
  it('--format json follows schema vxdump-trace/1', () => {
    const run = vxdump('trace', ...scenarioFiles('p2p-4789'), '--format', 'json');
    expect(run.status).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(Object.keys(doc).sort()).toEqual(['clock', 'directions', 'flows', 'losses', 'order', 'orderSource', 'packets', 'points', 'schema', 'totals']);
    expect(doc.schema).toBe('vxdump-trace/1');
    expect(doc.order).toEqual(['ns1/veth1a', 'node1/br0', 'node1/vxlan11', 'node1/eth0', 'node2/eth0', 'node2/vxlan11', 'node2/br0', 'ns2/veth2a']);
    const hops = readManifest('p2p-4789').flows[0]!.hops;
    const request = doc.packets.find((p: { sightings: { point: string; frame: number }[] }) => p.sightings[0]!.point === 'ns1/veth1a' && p.sightings[0]!.frame === hops[0]!.frame);
    expect(request.sightings).toHaveLength(8);
    const [first, , third, fourth] = request.sightings;
    expect(first).toMatchObject({ point: 'ns1/veth1a', deltaNs: null, length: 98, vni: null, ttl: 64, ethSrc: hops[0]!.ethSrc, changes: [] });
    expect(first.timestampNs).toMatch(/^\d{19}$/);
    expect(third.changes).toEqual([
      { field: 'eth.src', from: hops[1]!.ethSrc, to: hops[2]!.ethSrc },
      { field: 'eth.dst', from: hops[1]!.ethDst, to: hops[2]!.ethDst },
      { field: 'ip.ttl', from: 64, to: 63 },
    ]);
    expect(fourth.changes).toContainEqual({ field: 'vxlan.vni', from: null, to: 11 });
    expect(fourth.changes).toContainEqual({ field: 'frame.len', from: 98, to: 148 });
    expect(fourth).toMatchObject({ vni: 11, length: 148, ttl: 63 });
    expect(request.lost).toBeNull();
    expect(doc.totals).toEqual({ packets: doc.packets.length, matched: doc.packets.length, lost: 0, expired: 0, unanswered: 0 });
    const node2 = doc.clock.find((c: { node: string }) => c.node === 'node2');
    expect(node2).toMatchObject({ reference: 'node1', method: 'two-way', via: ['node1/eth0', 'node2/eth0'] });
    expect(typeof node2.offsetNs).toBe('string');
  });

  it.each(['p2p-4789', 'loss', 'service-nat', 'mtu', 'offload', 'ttl'])('%s: the JSON packets say what the library traced, sighting by sighting', (name) => {
    const doc = JSON.parse(vxdump('trace', ...scenarioFiles(name), '-p', String(readManifest(name).vxlan.udpPort), '-f', 'json').stdout);
    const t = traceScenario(name);
    const label = (p: number) => t.labels[p];
    const hop = (h: { after: number; before: number } | null) => (h === null ? null : { after: label(h.after), before: label(h.before) });
    const expected = t.packets.map((p) => ({
      id: p.id,
      flow: p.flow.id,
      sightings: p.sightings.map(({ sighting: s, deltaNs, changes }) => ({
        point: label(s.point),
        frame: s.frame,
        timestampNs: (t.result.baseNs + BigInt(s.timeNs)).toString(),
        deltaNs,
        length: s.length,
        vni: s.vni === -1 ? null : s.vni,
        ttl: s.ttl === -1 ? null : s.ttl,
        ethSrc: formatMac(s.ethSrc),
        ethDst: formatMac(s.ethDst),
        changes,
      })),
      lost: hop(p.lost),
      fragmented: hop(p.fragmented),
      resegmented: hop(p.resegmented),
      expired: hop(p.expired),
      missed: p.missed.map(label),
      icmpError: icmpErrorJson(p.icmpError, t.labels),
      quotes: p.quotes,
    }));
    expect(doc.packets.map(({ name: _, ...rest }: { name: string }) => rest)).toEqual(expected);
    expect(doc.packets.map((p: { name: string }) => p.name)).toEqual(t.packets.map((p) => packetName(p.sightings[0]!.sighting)));
  });

  it('custom-4899 read without its port: the JSON names its tunnel packets as UDP datagrams, as the library does', () => {
    // Port 4899 is no VXLAN port by default: every underlay packet is a plain UDP datagram.
    const files = scenarioFiles('custom-4899');
    const doc = JSON.parse(vxdump('trace', ...files, '-f', 'json').stdout);
    const t = traceFiles(files);
    const names = doc.packets.map((p: { name: string }) => p.name);
    expect(names).toEqual(t.packets.map((p) => packetName(p.sightings[0]!.sighting)));
    expect(names.filter((name: string) => /^len \d+, ip id \d+$/.test(name)).length).toBeGreaterThan(0);
  });

  it('--format json says which flows\' direction is a guess: those with no packet seen at two points', () => {
    // ns1's ARP for its gateway is only on ns1's own segment; the pings cross to ns2.
    const run = vxdump('trace', fixture('p2p-4789', 'ns1-veth1a.pcap'), fixture('p2p-4789', 'ns2-veth2a.pcap'), '--format', 'json');
    const doc = JSON.parse(run.stdout);
    const flow = (prefix: string) => doc.flows.find((f: { name: string }) => f.name.startsWith(prefix));
    expect(flow('ARP who-has 10.244.1.1')).toMatchObject({ path: ['ns1/veth1a'], directionKnown: false });
    expect(flow('ICMP 10.244.1.2')).toMatchObject({ path: ['ns1/veth1a', 'ns2/veth2a'], direction: 'forward', directionKnown: true });
    expect(flow('ICMP 10.244.2.2')).toMatchObject({ path: ['ns2/veth2a', 'ns1/veth1a'], direction: 'backward', directionKnown: true });
    expect(doc.directions.map((d: { directionKnown: boolean }) => d.directionKnown)).toEqual([true, true]);
  });

  it('prints the ladder with the changes in words, and the losses where they happened', () => {
    const run = vxdump('trace', ...scenarioFiles('loss'));
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^Capture points in path order \(inferred from the traffic; fix it with --path\):\n {3}1 {2}ns1\/veth1a /);
    expect(run.stdout).toContain('node2  +');
    expect(run.stdout).toMatch(/ICMP 10\.244\.1\.2 → 10\.244\.2\.2 id \d+, VNI 11: 5 packets, 2 lost\n/);
    expect(run.stdout).toMatch(/node1\/vxlan11 .*MAC 02:00:0a:f4:01:02 > 02:00:0a:f4:01:01 → 02:00:0a:f4:01:00 > 02:00:0a:f4:02:00, TTL 64→63 \(routed\)/);
    expect(run.stdout).toMatch(/node1\/eth0 .*\+ VXLAN vni 11, 10\.211\.55\.122:\d+ → 10\.211\.55\.123:4789, \+50 bytes/);
    expect(run.stdout).toMatch(/✖ 2 lost before node2\/vxlan11: echo request seq 2, ip id \d+; echo request seq 4, ip id \d+\n {2}node2\/vxlan11/);
  });

  it('--fail-on-loss exits 1 on the loss scenario and 0 on p2p-4789; --packets lists each packet', () => {
    expect(vxdump('trace', ...scenarioFiles('loss'), '--fail-on-loss').status).toBe(1);
    const clean = vxdump('trace', ...scenarioFiles('p2p-4789'), '--fail-on-loss', '--packets', '--format', 'table');
    expect(clean.status).toBe(0);
    expect(clean.stdout).toContain('┌');
    expect(clean.stdout).toMatch(/\nPackets:\n/);
    expect(clean.stdout).toMatch(/echo request seq 1, ip id \d+: ns1\/veth1a #3 → \+[\d.]+ µs node1\/br0 #3 →/);
  });

  it('--fail-on-no-reply exits 0 when the captures stopped before the first reply could be seen, and says it is too late to tell', () => {
    const stopped = writeStoppedBeforeFirstReply(scratchDir('stopped-before-reply-cli-'));
    const run = vxdump('trace', ...stopped, '--fail-on-no-reply');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/\nToo late to tell: 1 flow asked less than 200 ms \(--window\) before the captures stopped, and no reply came before then: ICMP 10\.244\.1\.2 \u2192 10\.244\.2\.2 id \d+\.\n/);
    expect(run.stdout).toMatch(/\nICMP 10\.244\.1\.2 \u2192 10\.244\.2\.2 id \d+, VNI 11: 1 packet, no reply seen before the captures stopped\n/);
    expect(run.stdout).not.toContain('No reply seen to');
    const doc = JSON.parse(vxdump('trace', ...stopped, '--format', 'json').stdout);
    expect(doc.totals.unanswered).toBe(0);
    const late = doc.flows.filter((f: { askedAtCaptureEnd: boolean }) => f.askedAtCaptureEnd);
    expect(late).toHaveLength(1);
    expect(late[0]).toMatchObject({ name: expect.stringMatching(/^ICMP 10\.244\.1\.2 /), unanswered: false, reverse: null });
    const [a, b] = ['ns1-veth1a.pcap', 'node1-br0.pcap'].map((name) => stopped.find((f) => f.endsWith(`/${name}`))!);
    const diff = vxdump('diff', a!, b!, '--fail-on-no-reply', '-f', 'json');
    expect(diff.status).toBe(0);
    const diffDoc = JSON.parse(diff.stdout);
    expect(diffDoc.unanswered).toEqual([]);
    expect(diffDoc.askedAtCaptureEnd).toEqual([{ flow: late[0].name, lastSeen: expect.any(String) }]);
  });

  it('a pcapng capture\'s own statistics: in the JSON points, and the drops beside the losses in trace and diff', () => {
    const pcapng = join(scratchDir('statistics-cli-'), 'node2-eth0.pcapng');
    writePcapngWithStatistics(fixture('loss', 'node2-eth0.pcap'), pcapng, { endAfterLastNs: 2_000_000n, interfaceDrops: 3n, osDrops: 2n });
    const files = scenarioFiles('loss').map((file) => (file.endsWith('/node2-eth0.pcap') ? pcapng : file));
    const doc = JSON.parse(vxdump('trace', ...files, '--format', 'json').stdout);
    const eth0 = doc.points.find((p: { label: string }) => p.label === 'node2/eth0');
    const lastFrameNs = [...openCapture(fixture('loss', 'node2-eth0.pcap'))].pop()!.timestampNs;
    expect(eth0.statistics).toEqual({
      startNs: expect.stringMatching(/^\d{19}$/),
      endNs: String(lastFrameNs + 2_000_000n),
      takenNs: String(lastFrameNs + 2_000_000n),
      received: 17,
      interfaceDrops: 3,
      osDrops: 2,
      filterAccepted: null,
      delivered: null,
    });
    expect(doc.points.filter((p: { statistics: unknown }) => p.statistics !== null)).toHaveLength(1);
    const diff = vxdump('diff', pcapng, fixture('loss', 'node2-vxlan11.pcap'));
    expect(diff.stdout).toMatch(/^A node2\/eth0: 12 frames, 5 dropped by the capture itself \(pcapng statistics\)\nB node2\/vxlan11: 8 frames\n/);
    expect(diff.stdout).toContain("The capture dropped packets itself at node2/eth0 (5), by its pcapng statistics: losses next to it may be the capture's, not the network's.");
    const diffDoc = JSON.parse(vxdump('diff', pcapng, fixture('loss', 'node2-vxlan11.pcap'), '-f', 'json').stdout);
    expect([diffDoc.a.statistics, diffDoc.b.statistics]).toEqual([eth0.statistics, null]);
  });

  it('--fail-on-no-reply exits 1 when every ping stops at node2/eth0, and 0 on p2p-4789; the JSON names the flow', () => {
    const stopped = writeStoppedPings(scratchDir('stopped-cli-'));
    expect(vxdump('trace', ...stopped, '--fail-on-loss').status, 'nothing is lost by the rule for losses').toBe(0);
    const run = vxdump('trace', ...stopped, '--fail-on-no-reply');
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('No reply seen to 1 flow that asked for one (TCP SYN, echo request, DNS query): ICMP 10.244.1.2 \u2192 10.244.2.2 id');
    expect(run.stdout).toMatch(/\(last seen at node2\/eth0\)\.\n/);
    expect(run.stdout).toMatch(/ICMP 10\.244\.1\.2 \u2192 10\.244\.2\.2 id \d+, VNI 11: \d+ packets, no reply seen\n/);
    const doc = JSON.parse(vxdump('trace', ...stopped, '--format', 'json').stdout);
    expect(doc.totals).toMatchObject({ lost: 0, unanswered: 1 });
    const unanswered = doc.flows.filter((f: { unanswered: boolean }) => f.unanswered);
    expect(unanswered).toHaveLength(1);
    expect(unanswered[0]).toMatchObject({ reverse: null, path: expect.arrayContaining(['node2/eth0']) });
    const fine = JSON.parse(vxdump('trace', ...scenarioFiles('p2p-4789'), '--format', 'json', '--fail-on-no-reply').stdout);
    expect(fine.totals.unanswered).toBe(0);
    const ping = fine.flows.find((f: { name: string }) => f.name.startsWith('ICMP 10.244.1.2'));
    const pong = fine.flows.find((f: { name: string }) => f.name.startsWith('ICMP 10.244.2.2'));
    expect([ping.reverse, pong.reverse]).toEqual([pong.id, ping.id]);
    expect(vxdump('trace', ...scenarioFiles('p2p-4789'), '--fail-on-no-reply').status).toBe(0);
  });

  it('says what is wrong with bad input, with exit 2', () => {
    const wrongPath = vxdump('trace', ...scenarioFiles('loss'), '--path', 'node1/br0,node1/eth9');
    expect(wrongPath.status).toBe(2);
    expect(wrongPath.stderr).toMatch(/--path names "node1\/eth9", which is not a capture point/);
    const missing = vxdump('trace', fixture('loss', 'no-such.pcap'));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/no-such\.pcap/);
    const piped = spawnSync(process.execPath, [join(REPO, 'bin/vxdump'), 'trace', '-'], { input: Buffer.alloc(0), encoding: 'utf8' });
    expect(piped.status).toBe(2);
    expect(piped.stderr).toMatch(/cannot read standard input: save it to a file first/);
    expect(vxdump('trace', fixture('loss', 'node1-br0.pcap'), '--window', 'soon').stderr).toMatch(/--window: "soon" is not a duration/);
    expect(vxdump('trace', fixture('loss', 'node1-br0.pcap'), '--clock-offset', 'node2').stderr).toMatch(/--clock-offset takes NODE=OFFSET/);
  });

  it('--links names the points of a tcpdump -i any capture after the node\'s interfaces', () => {
    // What `ip -j link` printed on node1, rebuilt from the lab's manifest.
    const links = join(scratchDir('links-'), 'node1-links.json');
    const node1 = readManifest('p2p-4789').topology.interfaces.filter((i) => i.namespace === 'node1');
    writeFileSync(links, JSON.stringify(node1.map((i) => ({ ifindex: i.ifindex, ifname: i.name }))));
    const files = [fixture('p2p-4789', 'ns1-veth1a.pcap'), fixture('p2p-4789', 'node1-any.pcap'), fixture('p2p-4789', 'node2-eth0.pcap')];
    const doc = JSON.parse(vxdump('trace', ...files, '--links', `node1=${links}`, '-f', 'json').stdout);
    expect(doc.order).toEqual(['ns1/veth1a', 'node1/veth1b', 'node1/br0', 'node1/vxlan11', 'node1/eth0', 'node2/eth0']);
    const bad = join(scratchDir('links-'), 'empty.json');
    writeFileSync(bad, '[]');
    const refused = vxdump('trace', ...files, '--links', `node1=${bad}`);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/--links .*empty\.json: no interfaces in it/);
    expect(vxdump('trace', ...files, '--links', 'node1').stderr).toMatch(/--links takes NODE=FILE/);
  });
});

describe('vxdump trace and diff: an ICMP error about a packet', () => {
  // mtu's ping with DF is 1500 bytes; node1 routes it from br0 into vxlan11 (MTU 1450), drops it,
  // and answers from its br0 address (node1-br0.pcap frame 7 in tshark's view).
  const fragNeeded = {
    type: 3,
    code: 4,
    name: 'destination unreachable (fragmentation needed), next-hop MTU 1450',
    from: '10.244.1.1',
    point: 'node1/br0',
    frame: 7,
    mtu: 1450,
  };

  it('trace: the text puts the error under the flow whose packet drew it, and beside it in the unanswered line', () => {
    const run = vxdump('trace', ...scenarioFiles('mtu'));
    expect(run.stdout).toMatch(
      /\nICMP 10\.244\.1\.2 \u2192 10\.244\.2\.2 id \d+: 1 packet, 1 lost, no reply seen\n.*\n.*\n +\u2716 1 lost before node1\/vxlan11: echo request seq 1, ip id 0\n.*too small\?\n  \u21a9 1 packet drew an ICMP error: 10\.244\.1\.1 sent ICMP destination unreachable \(fragmentation needed\), next-hop MTU 1450\n/,
    );
    expect(run.stdout).toMatch(/\(last seen at node1\/br0; 10\.244\.1\.1 sent ICMP destination unreachable \(fragmentation needed\), next-hop MTU 1450\)\.\n/);
  });

  it('trace: the loss says the ping was larger than anything that got to vxlan11, in text and JSON', () => {
    expect(vxdump('trace', ...scenarioFiles('mtu')).stdout).toMatch(
      /\n +\u2716 1 lost before node1\/vxlan11: echo request seq 1, ip id 0\n +larger than any packet that got to node1\/vxlan11 \(at most 1464 bytes here\): an MTU on the way too small\?\n/,
    );
    const doc = JSON.parse(vxdump('trace', ...scenarioFiles('mtu'), '-f', 'json').stdout);
    expect(doc.losses).toEqual([expect.objectContaining({ after: 'node1/br0', before: 'node1/vxlan11', smallestLength: 1514, largestCrossed: 1464 })]);
  });

  it('trace --format json: the packet has the error, the error the packet, and so do its flow and its loss', () => {
    const doc = JSON.parse(vxdump('trace', ...scenarioFiles('mtu'), '-f', 'json').stdout);
    const ping = doc.packets.find((p: { lost: unknown }) => p.lost !== null);
    const error = doc.packets.find((p: { quotes: number | null }) => p.quotes !== null);
    expect(ping.icmpError).toEqual({ packet: error.id, ...fragNeeded });
    expect(error).toMatchObject({ quotes: ping.id, name: expect.stringMatching(/^destination unreachable \(fragmentation needed\), next-hop MTU 1450, ip id \d+$/), icmpError: null });
    expect(doc.packets.filter((p: { icmpError: unknown }) => p.icmpError !== null)).toHaveLength(1);
    expect(doc.flows.find((f: { id: number }) => f.id === ping.flow)).toMatchObject({ icmpErrors: 1, icmpError: ping.icmpError });
    expect(doc.losses).toEqual([expect.objectContaining({ packets: [expect.objectContaining({ id: ping.id, icmpError: ping.icmpError })] })]);
  });

  it('diff: lost packets larger than any that got from A to B are said to be, and random losses are not', () => {
    const [a, b] = [fixture('mtu', 'node1-br0.pcap'), fixture('mtu', 'node1-vxlan11.pcap')];
    expect(vxdump('diff', a, b).stdout).toContain(
      '1 of them lost: their flow reaches B, larger than any packet that got from A to B (at most 1464 bytes at A): an MTU on the way too small?)',
    );
    const doc = JSON.parse(vxdump('diff', a, b, '-f', 'json').stdout);
    expect([doc.onlyA.smallestLostLength, doc.forward.largestLength]).toEqual([1514, 1464]);
    const random = vxdump('diff', fixture('loss', 'node2-eth0.pcap'), fixture('loss', 'node2-vxlan11.pcap'));
    expect(random.stdout).toContain('(2 of them lost: their flow reaches B), ');
    const randomDoc = JSON.parse(vxdump('diff', fixture('loss', 'node2-eth0.pcap'), fixture('loss', 'node2-vxlan11.pcap'), '-f', 'json').stdout);
    expect(randomDoc.onlyA.smallestLostLength).toBe(randomDoc.forward.largestLength);
  });

  it('diff: the packet only in A says who sent what back, in text and JSON', () => {
    const [a, b] = [fixture('mtu', 'ns1-veth1a.pcap'), fixture('mtu', 'node1-vxlan11.pcap')];
    expect(vxdump('diff', a, b).stdout).toMatch(
      /\n {4}A #\d+ ICMP 10\.244\.1\.2 \u2192 10\.244\.2\.2 id \d+ echo request seq 1, ip id 0 {2}LOST {2}\u21a9 10\.244\.1\.1 sent ICMP destination unreachable \(fragmentation needed\), next-hop MTU 1450\n/,
    );
    const doc = JSON.parse(vxdump('diff', a, b, '-f', 'json').stdout);
    const ping = doc.onlyA.packets.find((p: { lost: boolean }) => p.lost);
    const error = doc.onlyA.packets.find((p: { quotes: number | null }) => p.quotes !== null);
    expect(error.quotes).toBe(ping.id);
    expect(ping.icmpError).toEqual({ packet: error.id, ...fragNeeded, point: 'ns1/veth1a', frame: error.frame });
    expect(doc.unanswered).toEqual([{ flow: ping.flowName, lastSeen: 'ns1/veth1a', icmpError: ping.icmpError }]);
  });
});

describe('vxdump diff', () => {
  it('--fail-on-no-reply exits 1 where every ping stops at A (node2/eth0), which --fail-on-loss lets pass', () => {
    const stopped = writeStoppedPings(scratchDir('stopped-diff-'));
    const [a, b] = ['node2-eth0.pcap', 'node2-vxlan11.pcap'].map((name) => stopped.find((f) => f.endsWith(`/${name}`))!);
    expect(vxdump('diff', a!, b!, '--fail-on-loss').status).toBe(0);
    const run = vxdump('diff', a!, b!, '--fail-on-no-reply');
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/\nNo reply seen to 1 flow that asked for one \(TCP SYN, echo request, DNS query\): ICMP 10\.244\.1\.2 \u2192 10\.244\.2\.2 id \d+ \(last seen at node2\/eth0\)\.\n/);
    const doc = JSON.parse(vxdump('diff', a!, b!, '-f', 'json').stdout);
    expect(doc.unanswered).toEqual([{ flow: expect.stringMatching(/^ICMP 10\.244\.1\.2 \u2192 10\.244\.2\.2 id \d+$/), lastSeen: 'node2/eth0', icmpError: null }]);
    const fine = vxdump('diff', fixture('p2p-4789', 'node2-eth0.pcap'), fixture('p2p-4789', 'node2-vxlan11.pcap'), '--fail-on-no-reply', '-f', 'json');
    expect(fine.status).toBe(0);
    expect(JSON.parse(fine.stdout).unanswered).toEqual([]);
  });

  it('ttl: the probe whose TTL runs out at node1 is expired between br0 and vxlan11, not lost, in diff and trace alike', () => {
    const doc = JSON.parse(vxdump('diff', fixture('ttl', 'node1-br0.pcap'), fixture('ttl', 'node1-vxlan11.pcap'), '-f', 'json').stdout);
    expect(doc.onlyA).toMatchObject({ lost: 0, expired: 1 });
    expect(doc.onlyA.packets.filter((p: { expired: boolean }) => p.expired).map((p: { name: string }) => p.name)).toEqual([expect.stringMatching(/^echo request seq 1, ip id \d+$/)]);
    expect(vxdump('diff', fixture('ttl', 'node1-br0.pcap'), fixture('ttl', 'node1-vxlan11.pcap'), '--fail-on-loss').status).toBe(0);
    const run = vxdump('trace', ...scenarioFiles('ttl'), '--fail-on-loss');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('0 lost, 2 expired (their TTL ran out at a router: traceroute, mtr), in ');
    expect(run.stdout).toMatch(/: ICMP 10\.244\.1\.2 \u2192 10\.244\.2\.2 id \d+ \(last seen at node1\/br0; 10\.244\.1\.1 sent ICMP time exceeded \(TTL\)\); ICMP 10\.244\.1\.2 \u2192 10\.244\.2\.2 id \d+ \(last seen at node2\/vxlan11; 10\.244\.2\.0 sent ICMP time exceeded \(TTL\)\)\.\n/);
    const traced = JSON.parse(vxdump('trace', ...scenarioFiles('ttl'), '-f', 'json').stdout);
    expect(traced.totals).toMatchObject({ lost: 0, expired: 2 });
    expect(traced.packets.filter((p: { expired: unknown }) => p.expired !== null).map((p: { expired: unknown }) => p.expired)).toEqual([
      { after: 'node1/br0', before: 'node1/vxlan11' },
      { after: 'node2/vxlan11', before: 'node2/br0' },
    ]);
  });

  it('loss: node2/eth0 → node2/vxlan11 has the two lost requests, and --fail-on-loss exits 1', () => {
    const a = fixture('loss', 'node2-eth0.pcap');
    const b = fixture('loss', 'node2-vxlan11.pcap');
    const run = vxdump('diff', a, b, '--format', 'json');
    expect(run.status).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(doc.schema).toBe('vxdump-diff/1');
    expect(doc.a).toMatchObject({ label: 'node2/eth0', frames: 12 });
    expect(doc.onlyA.lost).toBe(2);
    expect(doc.onlyA.packets.filter((p: { lost: boolean }) => p.lost).map((p: { name: string }) => p.name.replace(/, ip id \d+/, ''))).toEqual([
      'echo request seq 2',
      'echo request seq 4',
    ]);
    expect(doc.forward.changes).toEqual([{ key: '\u2212 VXLAN vni 11, 10.211.55.122 \u2192 10.211.55.123:4789 (\u221250 bytes)', field: 'vxlan.vni', from: 11, to: null, packets: doc.forward.matched }]);
    expect(doc.onlyB.count).toBe(0);
    expect(vxdump('diff', a, b, '--fail-on-loss').status).toBe(1);
  });

  it('p2p-4789 br0 → vxlan11: MACs rewritten and TTL −1 for every routed packet; --fail-on-change picks the field', () => {
    const a = fixture('p2p-4789', 'node1-br0.pcap');
    const b = fixture('p2p-4789', 'node1-vxlan11.pcap');
    const run = vxdump('diff', a, b);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/6 matched \(3 A→B, 3 B→A\), 2 only in A \(0 of them lost: their flow reaches B\), 2 only in B/);
    expect(run.stdout).toContain('    ip.ttl \u22121: 3 packets');
    expect(run.stdout).toContain('    eth.src 02:00:0a:f4:01:02 \u2192 02:00:0a:f4:01:00: 3 packets');
    expect(run.stdout).toMatch(/Only in B \(new: generated or from elsewhere\): 2\n {4}B #1 ARP who-has 10\.244\.2\.0 tell 10\.244\.1\.0 request/);
    expect(vxdump('diff', a, b, '--fail-on-change', 'ip.ttl').status).toBe(1);
    expect(vxdump('diff', a, b, '--fail-on-change', 'vxlan.vni', '--fail-on-loss').status).toBe(0);
  });

  it('mtu node2/eth0 → ns2/veth2a: a reply that B sent whole and A saw in fragments is in both lists and lost in neither', () => {
    // The reply goes B → A and node2 fragments it on the way: at A it is past B, not lost after A.
    const doc = JSON.parse(vxdump('diff', fixture('mtu', 'node2-eth0.pcap'), fixture('mtu', 'ns2-veth2a.pcap'), '-f', 'json').stdout);
    const names = (side: { packets: { flowName: string; name: string }[] }) => side.packets.map((p) => `${p.flowName}: ${p.name.replace(/, ip id \d+/, '')}`);
    expect(names(doc.onlyA)).toContain('ICMP 10.244.2.2 \u2192 10.244.1.2 id 19570: echo reply seq 1');
    expect(names(doc.onlyA)).toContain('ICMP 10.244.2.2 \u2192 10.244.1.2 (later fragments): ip id 12460');
    expect(names(doc.onlyB)).toContain('ICMP 10.244.2.2 \u2192 10.244.1.2 id 19570: echo reply seq 1');
    expect(doc.onlyA.lost).toBe(0);
    expect(doc.onlyA.packets.filter((p: { lost: boolean }) => p.lost)).toEqual([]);
  });

  it('offload node2/flannel.1 → node2/eth0: the server\'s large segments, cut at eth0, and their pieces are resegmented, not lost or new', () => {
    const args = [fixture('offload', 'node2-flannel.1.pcap'), fixture('offload', 'node2-eth0.pcap')];
    const run = vxdump('diff', ...args, '-f', 'json');
    expect(run.status).toBe(0);
    const doc = JSON.parse(run.stdout);
    const length = (p: { name: string }) => Number(/ len (\d+)/.exec(p.name)?.[1]);
    const large = doc.onlyA.packets.filter((p: { name: string }) => length(p) > 1400);
    expect(large.length).toBeGreaterThan(0);
    expect(doc.onlyA.packets).toEqual(large.map((p: object) => ({ ...p, lost: false, resegmented: true })));
    expect([doc.onlyA.lost, doc.onlyA.resegmented]).toEqual([0, large.length]);
    // Only in B: the pieces (each at most the MTU's worth), and the underlay's ARP, which is new.
    const pieces = doc.onlyB.packets.filter((p: { resegmented: boolean }) => p.resegmented);
    expect(pieces.length).toBeGreaterThan(large.length);
    for (const p of pieces) expect(length(p)).toBeLessThanOrEqual(1400);
    expect(doc.onlyB.packets.filter((p: { resegmented: boolean }) => !p.resegmented).map((p: { flowName: string }) => p.flowName)).toEqual([
      expect.stringMatching(/^ARP who-has/),
      expect.stringMatching(/^ARP .* is-at/),
    ]);
    expect(doc.onlyB.resegmented).toBe(pieces.length);
    expect(vxdump('diff', ...args, '--fail-on-loss').status).toBe(0);
    const text = vxdump('diff', ...args).stdout;
    expect(text).toContain(`${large.length} resegmented: their bytes were at B in other segments (GSO/GRO)`);
    expect(text).toContain(`(${pieces.length} resegmented: their bytes were at A in other segments (GSO/GRO))`);
  });

  it.each([
    ['node1', '10.211.55.122 \u2192 10.211.55.123', '10.211.55.123 \u2192 10.211.55.122'],
    ['node2', '10.211.55.123 \u2192 10.211.55.122', '10.211.55.122 \u2192 10.211.55.123'],
  ])('p2p-4789 %s vxlan11 → eth0: packets decapsulated within the microsecond they arrived go B → A, as their flow does', (node, sent, received) => {
    // The µs captures give each packet decapsulated by a node the same time at eth0 and at
    // vxlan11: time cannot say which came first. The packets the node sends, encapsulated a few
    // µs after vxlan11, give their flow's direction, and the replies go against it. On node2 the
    // first request comes before any reply: its direction is settled when it is decided, after
    // the reply has come.
    const doc = JSON.parse(vxdump('diff', fixture('p2p-4789', `${node}-vxlan11.pcap`), fixture('p2p-4789', `${node}-eth0.pcap`), '-f', 'json').stdout);
    expect([doc.forward.matched, doc.backward.matched]).toEqual([4, 4]);
    expect(doc.forward.changes.map((c: { key: string; packets: number }) => [c.key, c.packets])).toEqual([[`+ VXLAN vni 11, ${sent}:4789 (+50 bytes)`, 4]]);
    expect(doc.backward.changes.map((c: { key: string; packets: number }) => [c.key, c.packets])).toEqual([[`\u2212 VXLAN vni 11, ${received}:4789 (\u221250 bytes)`, 4]]);
    expect(doc.odd).toEqual([]);
  });

  it('takes one interface of a tcpdump -i any or multi-interface pcapng capture when its label names it', () => {
    // node1/if5 is vxlan11 in p2p-4789's lab: the same frames as node1-vxlan11.pcap.
    const doc = JSON.parse(vxdump('diff', `node1/if5=${fixture('p2p-4789', 'node1-any.pcap')}`, fixture('p2p-4789', 'node1-vxlan11.pcap'), '-f', 'json').stdout);
    expect(doc.a).toMatchObject({ label: 'node1/if5', frames: 8 });
    expect(doc.forward.matched + doc.backward.matched).toBe(8);
    expect(doc.onlyA.count + doc.onlyB.count).toBe(0);
    expect([...doc.forward.changes, ...doc.backward.changes]).toEqual([]);
    // A before B as given, whichever file names its points first.
    const picked = JSON.parse(vxdump('diff', `node1/if3=${fixture('p2p-4789', 'node1-any.pcap')}`, `node1/br0=${fixture('p2p-4789', 'node1-multi.pcapng')}`, '-f', 'json').stdout);
    expect([picked.a.label, picked.b.label]).toEqual(['node1/if3', 'node1/br0']);
    expect(picked.onlyA.count + picked.onlyB.count).toBe(0);
    const noSuchIndex = vxdump('diff', `node1/if9=${fixture('p2p-4789', 'node1-any.pcap')}`, fixture('p2p-4789', 'node1-vxlan11.pcap'));
    expect(noSuchIndex.status).toBe(2);
    expect(noSuchIndex.stderr).toMatch(/node1-any\.pcap: no frame of interface if9 in the first 20000 frames/);
    const noSuchName = vxdump('diff', `node1/eth9=${fixture('p2p-4789', 'node1-multi.pcapng')}`, fixture('p2p-4789', 'node1-vxlan11.pcap'));
    expect(noSuchName.status).toBe(2);
    expect(noSuchName.stderr).toMatch(/node1-multi\.pcapng has no interface eth9 \(it has br0, vxlan11, eth0\)/);
  });

  it('two ends of a direct underlay link: every packet matched both ways, nothing changed', () => {
    const doc = JSON.parse(vxdump('diff', fixture('flannel-8472', 'node1-eth0.pcap'), fixture('flannel-8472', 'node2-eth0.pcap'), '-f', 'json').stdout);
    expect(doc.onlyA.count + doc.onlyB.count).toBe(0);
    expect(doc.forward.changes).toEqual([]);
    expect(doc.backward.changes).toEqual([]);
    expect(doc.forward.matched + doc.backward.matched).toBe(doc.a.frames);
    expect(doc.odd).toEqual([]);
  });

  it('lists as odd the packets a hop changed otherwise than most of their flow, also when they came first', () => {
    // The first echo request leaves vxlan11 with one TTL less than the routing gave it: its way
    // of changing (TTL −2) is seen first and yet is the odd one, against the usual TTL −1.
    const a = fixture('p2p-4789', 'node1-br0.pcap');
    const b = join(scratchDir('odd-'), 'node1-vxlan11.pcap');
    let edited: number | undefined;
    writeEdited(fixture('p2p-4789', 'node1-vxlan11.pcap'), b, (frame, index) => {
      const bytes = Uint8Array.from(frame.bytes);
      const ipv4 = bytes[12] === 0x08 && bytes[13] === 0x00;
      if (edited === undefined && ipv4 && bytes[14 + 9] === 1 && bytes[14 + 20] === 8) {
        bytes[14 + 8]! -= 1;
        edited = index + 1;
      }
      return { timestampNs: frame.timestampNs, bytes };
    });
    const doc = JSON.parse(vxdump('diff', a, b, '-f', 'json').stdout);
    expect(edited).toBeDefined();
    expect(doc.forward.changes).toContainEqual(expect.objectContaining({ key: 'ip.ttl \u22122', packets: 1 }));
    expect(doc.forward.changes).toContainEqual(expect.objectContaining({ key: 'ip.ttl \u22121', packets: 2 }));
    expect(doc.odd).toHaveLength(1);
    const [odd] = doc.odd;
    expect(odd.name).toMatch(/^echo request seq 1, ip id \d+$/);
    expect(odd.flowName).toMatch(/^ICMP 10\.244\.1\.2 \u2192 10\.244\.2\.2 id \d+$/);
    expect(odd.changes).toContain('ip.ttl \u22122');
    expect(odd.usual).toContain('ip.ttl \u22121');
    // Its frame number is the one at A, where the request was first seen.
    const before = JSON.parse(vxdump('diff', a, fixture('p2p-4789', 'node1-vxlan11.pcap'), '-f', 'json').stdout);
    expect(before.odd).toEqual([]);
    expect(odd.frame).toBeLessThanOrEqual(before.a.frames);
  });

  it('refuses a pcapng that holds more than one point', () => {
    const run = vxdump('diff', fixture('p2p-4789', 'node1-multi.pcapng'), fixture('p2p-4789', 'node2-eth0.pcap'));
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/diff compares two capture points; these files hold 4/);
    expect(run.stderr).toMatch(/take one of a file's points by its label: node1\/br0=FILE/);
  });
});

// The bench's path generator is plain JavaScript over the built writers (npm test builds dist/ first).
const generator = (await import('../../bench/generate-path.mjs')) as unknown as {
  generatePath: (options: { packets: number; dir: string; seed?: number; driftPpm?: number }) => unknown;
};

describe('vxdump diff: a node whose clock drifts', () => {
  const dir = scratchDir('drift-cli-');

  it('matches the eth0s of a path with node2 300 ppm slow as those of the same path without drift, and says how it drifted', () => {
    const eth0s = (driftPpm: number) => {
      const out = join(dir, String(driftPpm));
      generator.generatePath({ packets: 30_000, dir: out, seed: 0x5eed, driftPpm });
      return [join(out, 'node1-eth0.pcap'), join(out, 'node2-eth0.pcap')];
    };
    const steady = JSON.parse(vxdump('diff', ...eth0s(0), '-f', 'json').stdout);
    const drifting = eth0s(-300);
    const doc = JSON.parse(vxdump('diff', ...drifting, '-f', 'json').stdout);
    expect([doc.forward.matched, doc.backward.matched, doc.onlyA.count, doc.onlyB.count]).toEqual([steady.forward.matched, steady.backward.matched, 0, 0]);
    expect(doc.forward.latency.minNs).toBeGreaterThan(0);
    expect(doc.backward.latency.minNs).toBeGreaterThan(0);
    expect(steady.clock[1].drift).toMatchObject({ corrections: 0 });
    // Told from 0.28 s of traffic: within a few percent.
    expect(Math.abs(doc.clock[1].drift.ppm + 300)).toBeLessThan(10);
    expect(vxdump('diff', ...drifting).stdout).toMatch(/\n  node2  \+1\.7\d+ s \u00b1 [\d.]+ \u00b5s, from node1\/eth0 \u2194 node2\/eth0 \(\d+ \+ \d+ packets\)\n {9}drifting \u2212\d+\.\d ppm: \+1\.7499\d+ s at the last packet, \d+ ms on; /);
  });
});

