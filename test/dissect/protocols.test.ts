import { describe, expect, test } from 'vitest';
import { LinkType } from '../../src/capture/linktypes.js';
import {
  badChecksums,
  createDissector,
  isMalformed,
  isTruncated,
  packetToJson,
  type Packet,
} from '../../src/dissect/index.js';
import {
  arp, concat, eth, frame, icmp, ipv4, ipv4Tcp, ipv4Udp, nullHeader, primerEchoRequest, sll, sll2, tag,
  vxlan, vxlanPacket,
} from './craft.js';

const dissect = createDissector();

function protocols(p: Packet): string {
  return p.layers.map((l) => (l.quoted ? `(${l.protocol})` : l.protocol)).join(':');
}

const DNS_QUERY = new Uint8Array([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1]);

describe('the primer: first echo request at node1 eth0', () => {
  const p = dissect(frame(primerEchoRequest()));

  test('layers, offsets and encapsulation depths', () => {
    expect(protocols(p)).toBe('eth:ip:udp:vxlan:eth:ip:icmp');
    expect(p.layers.map((l) => [l.offset, l.length, l.depth])).toEqual([
      [0, 14, 0], [14, 20, 0], [34, 8, 0], [42, 8, 0], [50, 14, 1], [64, 20, 1], [84, 8, 1],
    ]);
    expect(p.error).toBeNull();
    expect(p.frame.capturedLength).toBe(148);
  });

  test('helpers answer outer/inner questions without counting', () => {
    expect(p.tunnelDepth).toBe(1);
    expect(p.vxlan?.vni).toBe(11);
    expect(p.vxlans.map((v) => v.vni)).toEqual([11]);
    expect(p.outerIpv4?.fields['ip.src']).toBe('10.211.55.122');
    expect(p.outerUdp?.srcPort).toBe(34366);
    expect(p.outerUdp?.dstPort).toBe(4789);
    expect(p.innerIpv4?.fields['ip.dst']).toBe('10.244.2.2');
    expect(p.innerIpv4?.ttl).toBe(63);
    expect(p.innerIpv4?.id).toBe(0xbeef);
    expect(p.innerEth?.fields['eth.src']).toBe('56:84:00:00:00:01');
    expect(p.innerIcmp?.ident).toBe(29004);
    expect(p.innerIcmp?.seq).toBe(1);
    expect(p.innerIcmp?.typeName).toBe('echo request');
    expect(p.transport?.protocol).toBe('icmp');
    expect(p.innerTcp).toBeUndefined();
    expect(p.innerUdp).toBeUndefined();
    expect(p.first('ip', 1)?.ttl).toBe(63);
    expect(p.at(1).map((l) => l.protocol)).toEqual(['eth', 'ip', 'icmp']);
  });

  test('checksums: IPv4 and ICMP good, UDP not present', () => {
    expect(p.outerIpv4?.checksumStatus).toBe('good');
    expect(p.innerIpv4?.checksumStatus).toBe('good');
    expect(p.innerIcmp?.checksumStatus).toBe('good');
    expect(p.outerUdp?.checksumStatus).toBe('not present');
    expect(isMalformed(p)).toBe(false);
  });

  test('JSON follows the contract exactly', () => {
    const json = packetToJson(p, 'node1-eth0.pcap');
    expect(Object.keys(json)).toEqual(['type', 'file', 'frame', 'layers', 'error']);
    expect(json.type).toBe('packet');
    expect(json.file).toBe('node1-eth0.pcap');
    expect(json.frame).toMatchObject({
      number: 1,
      timestampNs: '1700000000123456789',
      time: '2023-11-14T22:13:20.123456789Z',
      capturedLength: 148,
      originalLength: 148,
      linkType: 'EN10MB',
    });
    expect(json.layers[0]).toEqual({
      protocol: 'eth',
      offset: 0,
      length: 14,
      fields: { 'eth.dst': '00:1c:42:00:00:02', 'eth.src': '00:1c:42:00:00:01', 'eth.type': 2048 },
    });
    expect(json.layers[3]).toEqual({
      protocol: 'vxlan',
      offset: 42,
      length: 8,
      fields: {
        'vxlan.flags': 0x0800, 'vxlan.flag_g': false, 'vxlan.flag_i': true, 'vxlan.flag_d': false,
        'vxlan.flag_a': false, 'vxlan.flags_reserved': 0, 'vxlan.gbp': 0, 'vxlan.vni': 11, 'vxlan.reserved8': 0,
      },
    });
    expect(json.layers[5]!.fields).toMatchObject({
      'ip.version': 4, 'ip.hdr_len': 20, 'ip.len': 84, 'ip.id': 0xbeef, 'ip.flags.df': true, 'ip.flags.mf': false,
      'ip.flags': 2, 'ip.ttl': 63, 'ip.proto': 1, 'ip.checksum.status': 'good', 'ip.src': '10.244.1.2',
    });
    expect(json.layers[6]!.fields).toMatchObject({ 'icmp.type': 8, 'icmp.code': 0, 'icmp.ident': 29004, 'icmp.seq': 1 });
    expect(json.error).toBeNull();
    // Survives a round trip through JSON text unchanged (no bigint, no undefined, no NaN).
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });

  test('layers stay valid after the frame bytes are overwritten (reader moved on)', () => {
    const bytes = primerEchoRequest();
    const q = dissect(frame(bytes));
    bytes.fill(0xee);
    expect(q.vxlan?.vni).toBe(11);
    expect(q.innerIpv4?.fields['ip.src']).toBe('10.244.1.2');
  });
});

describe('link layers', () => {
  const inner = ipv4Udp({ src: '10.1.1.1', dst: '10.1.1.2' }, { sport: 1234, dport: 53 }, DNS_QUERY);

  test('Ethernet 802.3 length field: eth.len, nothing decoded after it, no error', () => {
    const p = dissect(frame(eth(46, new Uint8Array(46).fill(0xaa))));
    expect(protocols(p)).toBe('eth');
    expect(p.layers[0]!.fields).toMatchObject({ 'eth.len': 46 });
    expect(p.layers[0]!.fields['eth.type']).toBeUndefined();
    expect(p.error).toBeNull();
  });

  test('802.1Q tag with priority, DEI and id', () => {
    const p = dissect(frame(eth(0x8100, tag(100, 0x0800, inner, 5, true))));
    expect(protocols(p)).toBe('eth:vlan:ip:udp');
    expect(p.layers[1]!.fields).toEqual({ 'vlan.priority': 5, 'vlan.dei': true, 'vlan.id': 100, 'vlan.etype': 0x0800 });
    expect(p.outerIpv4?.fields['ip.src']).toBe('10.1.1.1');
  });

  test('802.1ad QinQ: S-tag then C-tag', () => {
    const p = dissect(frame(eth(0x88a8, tag(200, 0x8100, tag(2001, 0x0800, inner)))));
    expect(protocols(p)).toBe('eth:ieee8021ad:vlan:ip:udp');
    expect(p.layers[1]!.fields).toEqual({
      'ieee8021ad.priority': 0, 'ieee8021ad.dei': false, 'ieee8021ad.id': 200, 'ieee8021ah.etype': 0x8100,
    });
    expect(p.layers[2]!.fields['vlan.id']).toBe(2001);
  });

  test('pre-standard QinQ 0x9100 is a VLAN tag too', () => {
    const p = dissect(frame(eth(0x9100, tag(7, 0x8100, tag(8, 0x0800, inner)))));
    expect(protocols(p)).toBe('eth:vlan:vlan:ip:udp');
  });

  test('a VLAN-tagged underlay carries VXLAN (the nDPI sample shape)', () => {
    const v = vxlanPacket(1111, eth(0x0800, inner));
    const tagged = concat(v.subarray(0, 12), new Uint8Array([0x81, 0x00]), tag(5, 0x0800, v.subarray(14)));
    const p = dissect(frame(tagged));
    expect(protocols(p)).toBe('eth:vlan:ip:udp:vxlan:eth:ip:udp');
    expect(p.vxlan?.vni).toBe(1111);
    expect(p.innerUdp?.dstPort).toBe(53);
  });

  test('more than 8 stacked tags stop with an error, not a deep recursion', () => {
    let body: Uint8Array = inner;
    body = tag(1, 0x0800, body);
    for (let i = 0; i < 20; i++) body = tag(i + 2, 0x8100, body);
    const p = dissect(frame(eth(0x8100, body)));
    expect(p.layers.filter((l) => l.protocol === 'vlan')).toHaveLength(8);
    expect(p.error?.layer).toBe('vlan');
    expect(p.error?.message).toMatch(/^vlan: more than 8 stacked VLAN tags at offset 46$/);
  });

  test('Linux cooked v1 (LINUX_SLL)', () => {
    const p = dissect(frame(sll(0x0800, inner, 4), LinkType.LINUX_SLL));
    expect(protocols(p)).toBe('sll:ip:udp');
    expect(p.layers[0]!.fields).toEqual({
      'sll.pkttype': 4, 'sll.hatype': 1, 'sll.halen': 6, 'sll.src.eth': '02:00:00:00:00:0a', 'sll.etype': 0x0800,
    });
    expect(p.layers[0]!.length).toBe(16);
  });

  test('Linux cooked v2 (LINUX_SLL2) with the interface index', () => {
    const p = dissect(frame(sll2(0x0800, inner, 7, 0), LinkType.LINUX_SLL2));
    expect(protocols(p)).toBe('sll:ip:udp');
    expect(p.layers[0]!.fields).toEqual({
      'sll.pkttype': 0, 'sll.hatype': 1, 'sll.halen': 6, 'sll.src.eth': '02:00:00:00:00:0a', 'sll.etype': 0x0800,
      'sll.ifindex': 7,
    });
    expect(p.layers[0]!.length).toBe(20);
    expect(p.outerUdp?.dstPort).toBe(53);
  });

  test('cooked capture of ARP and of a Linux-only protocol', () => {
    expect(protocols(dissect(frame(sll(0x0806, arp({ opcode: 1, senderIp: '10.0.0.1', targetIp: '10.0.0.2' })), LinkType.LINUX_SLL)))).toBe('sll:arp');
    const llc = dissect(frame(sll(0x0004, new Uint8Array([0x42, 0x42, 3])), LinkType.LINUX_SLL));
    expect(protocols(llc)).toBe('sll');
    expect(llc.layers[0]!.fields['sll.ltype']).toBe(4);
    expect(llc.error).toBeNull();
  });

  test('NULL in either byte order, LOOP in network order', () => {
    for (const networkOrder of [false, true]) {
      const p = dissect(frame(nullHeader(2, inner, networkOrder), LinkType.NULL));
      expect(protocols(p)).toBe('null:ip:udp');
      expect(p.layers[0]!.fields).toEqual({ 'null.family': 2 });
    }
    expect(protocols(dissect(frame(nullHeader(2, inner, true), LinkType.LOOP)))).toBe('null:ip:udp');
    // IPv6 (family 24/28/30) is not decoded yet: the null layer only, no error.
    const v6 = dissect(frame(nullHeader(30, new Uint8Array(40)), LinkType.NULL));
    expect(protocols(v6)).toBe('null');
    expect(v6.error).toBeNull();
  });

  test('raw IP (RAW by version nibble, IPV4)', () => {
    expect(protocols(dissect(frame(inner, LinkType.RAW)))).toBe('ip:udp');
    expect(protocols(dissect(frame(inner, LinkType.IPV4)))).toBe('ip:udp');
    const v6 = dissect(frame(new Uint8Array([0x60, 0, 0, 0]), LinkType.RAW));
    expect(v6.layers).toEqual([]);
    expect(v6.error).toBeNull();
    const bad = dissect(frame(new Uint8Array([0x50, 0, 0, 0]), LinkType.RAW));
    expect(bad.error?.message).toBe('raw: IP version 5 is neither 4 nor 6 at offset 0');
  });

  test('an unknown link type gives no layers and an error, not an exception', () => {
    const p = dissect(frame(inner, 147));
    expect(p.layers).toEqual([]);
    expect(p.error).toEqual({ layer: 'frame', offset: 0, message: 'frame: link type 147 is not supported at offset 0', truncated: false });
    expect(packetToJson(p, 'x.pcap').frame.linkType).toBe('LINKTYPE_147');
    expect(dissect(frame(inner, LinkType.IPV6)).error?.message).toContain('link type 229 (IPV6) is not supported');
  });
});

describe('ARP', () => {
  test('request and reply: opcode, sender/target MAC and IPv4', () => {
    const req = dissect(frame(eth(0x0806, arp({ opcode: 1, senderIp: '10.244.1.2', targetIp: '10.244.1.1' }), 'ff:ff:ff:ff:ff:ff')));
    expect(protocols(req)).toBe('eth:arp');
    expect(req.layers[1]!.fields).toEqual({
      'arp.hw.type': 1, 'arp.proto.type': 0x0800, 'arp.hw.size': 6, 'arp.proto.size': 4, 'arp.opcode': 1,
      'arp.src.hw_mac': '02:00:00:00:00:0a', 'arp.src.proto_ipv4': '10.244.1.2',
      'arp.dst.hw_mac': '00:00:00:00:00:00', 'arp.dst.proto_ipv4': '10.244.1.1',
    });
    const a = req.first('arp')!;
    expect(a.opcodeName).toBe('request');
    expect(a.gratuitous).toBe(false);
    const reply = dissect(frame(eth(0x0806, arp({ opcode: 2, senderMac: '02:00:00:00:00:0b', senderIp: '10.244.1.1', targetMac: '02:00:00:00:00:0a', targetIp: '10.244.1.2' }))));
    expect(reply.first('arp')!.opcodeName).toBe('reply');
    expect(reply.first('arp')!.targetMac).toBe(0x02000000000a);
  });

  test('gratuitous ARP is named as such', () => {
    const p = dissect(frame(eth(0x0806, arp({ opcode: 1, senderIp: '10.244.2.0', targetIp: '10.244.2.0' }), 'ff:ff:ff:ff:ff:ff')));
    expect(p.first('arp')!.opcodeName).toBe('gratuitous request');
    expect(p.layers[1]!.fields['arp.isgratuitous']).toBe(true);
  });

  test('ARP inside VXLAN (the VTEP ARP that crosses the tunnel)', () => {
    const p = dissect(frame(vxlanPacket(11, eth(0x0806, arp({ opcode: 1, senderIp: '10.244.1.0', targetIp: '10.244.2.0' }), 'ff:ff:ff:ff:ff:ff'))));
    expect(protocols(p)).toBe('eth:ip:udp:vxlan:eth:arp');
    expect(p.last('arp')?.depth).toBe(1);
    expect(p.innerIpv4).toBeUndefined(); // the only IPv4 is the outer one
  });

  test('non-Ethernet/IPv4 ARP keeps the fixed part only', () => {
    const p = dissect(frame(eth(0x0806, new Uint8Array([0, 6, 0x08, 0x00, 8, 4, 0, 1, ...new Array(24).fill(0)]))));
    expect(p.layers[1]!.length).toBe(8);
    expect(p.layers[1]!.fields['arp.src.hw_mac']).toBeUndefined();
  });
});

describe('IPv4', () => {
  test('DSCP/ECN, identification, TTL, addresses', () => {
    const p = dissect(frame(eth(0x0800, ipv4Udp({ tos: 0xb9, id: 4321, ttl: 17 }, { sport: 1, dport: 2 }, new Uint8Array(4)))));
    const ip = p.outerIpv4!;
    expect([ip.dscp, ip.ecn, ip.id, ip.ttl]).toEqual([46, 1, 4321, 17]);
    expect(ip.fields).toMatchObject({ 'ip.dsfield': 0xb9, 'ip.dsfield.dscp': 46, 'ip.dsfield.ecn': 1, 'ip.src': '10.0.0.1', 'ip.dst': '10.0.0.2' });
  });

  test('options are listed, not fatal: router alert, NOP, EOL', () => {
    const p = dissect(frame(eth(0x0800, ipv4Udp({ options: [148, 4, 0, 0, 1, 0, 0, 0] }, { sport: 1, dport: 2 }, new Uint8Array(4)))));
    expect(protocols(p)).toBe('eth:ip:udp');
    expect(p.outerIpv4!.length).toBe(28);
    expect(p.outerIpv4!.fields).toMatchObject({ 'ip.hdr_len': 28, 'ip.opt.type': [148, 1, 0], 'ip.opt.len': [4] });
    expect(p.outerUdp!.checksumStatus).toBe('good');
  });

  test('a malformed option length ends the option list but not the decode', () => {
    const p = dissect(frame(eth(0x0800, ipv4Udp({ options: [7, 40, 0, 0] }, { sport: 1, dport: 2 }, new Uint8Array(4)))));
    expect(protocols(p)).toBe('eth:ip:udp');
    expect(p.outerIpv4!.options).toEqual([[7, 40]]);
    expect(p.error).toBeNull();
  });

  test('a bad header checksum is reported and counts as malformed', () => {
    const p = dissect(frame(eth(0x0800, ipv4Udp({ checksum: 0xdead }, { sport: 1, dport: 2 }, new Uint8Array(4)))));
    expect(p.outerIpv4!.checksumStatus).toBe('bad');
    expect(badChecksums(p)).toEqual({ header: 1, transport: 0 });
    expect(isMalformed(p)).toBe(true);
  });

  test('first fragment: transport decoded, says it is a fragment, checksum unverified', () => {
    const p = dissect(frame(eth(0x0800, ipv4Udp({ mf: true }, { sport: 5000, dport: 6000, length: 3000 }, new Uint8Array(100)))));
    expect(protocols(p)).toBe('eth:ip:udp');
    expect(p.outerIpv4!.fragment).toBe('first');
    expect(p.outerIpv4!.fields).toMatchObject({ 'ip.flags.mf': true, 'ip.frag_offset': 0, 'ip.fragment_position': 'first' });
    expect(p.outerUdp!.checksumStatus).toBe('unverified');
    expect(p.error).toBeNull();
  });

  test('later fragments are not decoded as transport', () => {
    const middle = dissect(frame(eth(0x0800, ipv4({ proto: 17, mf: true, fragOffset: 185 }, new Uint8Array(1480)))));
    expect(protocols(middle)).toBe('eth:ip');
    expect(middle.outerIpv4!.fields).toMatchObject({ 'ip.frag_offset': 185, 'ip.fragment_position': 'middle' });
    expect(middle.outerIpv4!.fragOffsetBytes).toBe(1480);
    const last = dissect(frame(eth(0x0800, ipv4({ proto: 17, fragOffset: 370 }, new Uint8Array(100)))));
    expect(protocols(last)).toBe('eth:ip');
    expect(last.outerIpv4!.fragment).toBe('last');
    expect(last.error).toBeNull();
  });

  test('Ethernet padding after a short datagram is ignored (checksum still good)', () => {
    const short = eth(0x0800, ipv4Udp({}, { sport: 1, dport: 2 }, new Uint8Array([1, 2])));
    const padded = concat(short, new Uint8Array(60 - short.length).fill(0x55));
    const p = dissect(frame(padded));
    expect(p.outerUdp!.checksumStatus).toBe('good');
    expect(p.outerUdp!.payloadEnd).toBe(short.length);
  });

  test('version, header length and total length errors', () => {
    const v6 = eth(0x0800, ipv4Udp({}, { sport: 1, dport: 2 }, new Uint8Array(4)));
    v6[14] = 0x65;
    expect(dissect(frame(v6)).error).toMatchObject({ layer: 'ip', offset: 14, message: 'ipv4: version 6 is not 4 at offset 14' });
    const ihl = eth(0x0800, ipv4Udp({}, { sport: 1, dport: 2 }, new Uint8Array(4)));
    ihl[14] = 0x44;
    expect(dissect(frame(ihl)).error?.message).toBe('ipv4: header length 16 < 20 at offset 14');
    const tot = eth(0x0800, ipv4Udp({ totalLength: 10 }, { sport: 1, dport: 2 }, new Uint8Array(4)));
    expect(dissect(frame(tot)).error?.message).toBe('ipv4: total length 10 < header length 20 at offset 14');
  });

  test('the DESIGN.md example: header length 24 > 20 bytes left at offset 50', () => {
    // Raw IP underlay: IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14) puts the inner IPv4
    // header at offset 50; it announces 24 header bytes (one option word) but the frame ends 20
    // bytes later.
    const innerHeader = ipv4({ proto: 17, options: [1, 1, 1, 0] }, new Uint8Array(0)).subarray(0, 20);
    const bytes = ipv4Udp({}, { sport: 4000, dport: 4789, checksum: 'none' }, vxlan(1, eth(0x0800, innerHeader)));
    const p = dissect(frame(bytes, LinkType.RAW));
    expect(protocols(p)).toBe('ip:udp:vxlan:eth');
    expect(p.error).toEqual({ layer: 'ip', offset: 50, message: 'ipv4: header length 24 > 20 bytes left at offset 50', truncated: false });
    expect(isMalformed(p)).toBe(true);
    expect(isTruncated(p)).toBe(false);
  });
});

describe('UDP', () => {
  test('checksum 0 is "not present", a computed one is verified', () => {
    const none = dissect(frame(eth(0x0800, ipv4Udp({}, { sport: 1, dport: 2, checksum: 'none' }, new Uint8Array(5)))));
    expect(none.outerUdp!.fields).toEqual({ 'udp.srcport': 1, 'udp.dstport': 2, 'udp.length': 13, 'udp.checksum': 0, 'udp.checksum.status': 'not present' });
    const good = dissect(frame(eth(0x0800, ipv4Udp({}, { sport: 1, dport: 2 }, new Uint8Array([1, 2, 3, 4, 5])))));
    expect(good.outerUdp!.checksumStatus).toBe('good');
  });

  test('a bad checksum is "bad", counted as transport (offload?), malformed only when strict', () => {
    const p = dissect(frame(eth(0x0800, ipv4Udp({}, { sport: 1, dport: 2, checksum: 0x1234 }, new Uint8Array(5)))));
    expect(p.outerUdp!.checksumStatus).toBe('bad');
    expect(badChecksums(p)).toEqual({ header: 0, transport: 1 });
    expect(isMalformed(p)).toBe(false);
    expect(isMalformed(p, { strictChecksums: true })).toBe(true);
  });

  test('verified only when the whole datagram was captured', () => {
    const bytes = eth(0x0800, ipv4Udp({}, { sport: 1, dport: 2 }, new Uint8Array(100)));
    const p = dissect(frame(bytes.subarray(0, 60), LinkType.EN10MB, bytes.length));
    expect(p.outerUdp!.checksumStatus).toBe('unverified');
    expect(p.error).toBeNull();
  });

  test('length below 8 is an error after the header is kept', () => {
    const p = dissect(frame(eth(0x0800, ipv4Udp({}, { sport: 1, dport: 2, length: 4 }, new Uint8Array(4)))));
    expect(protocols(p)).toBe('eth:ip:udp');
    expect(p.error?.message).toBe('udp: length 4 < 8 header bytes at offset 34');
  });

  test('checksums can be switched off', () => {
    const off = createDissector({ verifyChecksums: false });
    const p = off(frame(eth(0x0800, ipv4Udp({ checksum: 1 }, { sport: 1, dport: 2, checksum: 1 }, new Uint8Array(5)))));
    expect(p.outerIpv4!.checksumStatus).toBe('unverified');
    expect(p.outerUdp!.checksumStatus).toBe('unverified');
  });
});

describe('VXLAN', () => {
  const innerFrame = eth(0x0800, ipv4Udp({ src: '10.244.1.2', dst: '10.244.2.2' }, { sport: 40000, dport: 53 }, DNS_QUERY));

  test('GBP extension: G, D, A flags and the Group Policy ID', () => {
    const p = dissect(frame(vxlanPacket(0xabcdef, innerFrame, { flags: 0x8848, gbp: 0x1234 })));
    const v = p.vxlan!;
    expect([v.flagG, v.flagI, v.flagD, v.flagA, v.gbp, v.vni]).toEqual([true, true, true, true, 0x1234, 0xabcdef]);
    expect(v.fields).toEqual({
      'vxlan.flags': 0x8848, 'vxlan.flag_g': true, 'vxlan.flag_i': true, 'vxlan.flag_d': true, 'vxlan.flag_a': true,
      'vxlan.flags_reserved': 0, 'vxlan.gbp': 0x1234, 'vxlan.vni': 0xabcdef, 'vxlan.reserved8': 0,
    });
  });

  test('non-zero reserved bits are reported and tolerated', () => {
    const p = dissect(frame(vxlanPacket(11, innerFrame, { flags: 0xff01, gbp: 0x0042 })));
    expect(p.vxlan!.flagsReserved).toBe(0xff01 & 0x77b7);
    expect(p.innerIpv4?.fields['ip.dst']).toBe('10.244.2.2');
  });

  test('the 24-bit VNI range', () => {
    expect(dissect(frame(vxlanPacket(0xffffff, innerFrame))).vxlan!.vni).toBe(16777215);
    expect(dissect(frame(vxlanPacket(0, innerFrame))).vxlan!.vni).toBe(0);
  });

  test('ports 4789 and 8472 by default, matched on destination or source', () => {
    expect(dissect(frame(vxlanPacket(1, innerFrame, { port: 8472 }))).vxlan?.vni).toBe(1);
    const reply = vxlanPacket(2, innerFrame, { port: 50000, sport: 4789 });
    expect(dissect(frame(reply)).vxlan?.vni).toBe(2);
    expect(dissect(frame(vxlanPacket(3, innerFrame, { port: 4899 }))).vxlan).toBeUndefined();
  });

  test('a configured port list replaces the defaults', () => {
    const custom = createDissector({ vxlanPorts: [4899] });
    expect(custom(frame(vxlanPacket(10001, innerFrame, { port: 4899 }))).vxlan?.vni).toBe(10001);
    expect(custom(frame(vxlanPacket(11, innerFrame, { port: 4789 }))).vxlan).toBeUndefined();
    expect(() => createDissector({ vxlanPorts: [70000] })).toThrow(/not a UDP port/);
  });

  test('heuristic mode finds VXLAN on any port and says so', () => {
    const h = createDissector({ vxlanHeuristic: true });
    const p = h(frame(vxlanPacket(10001, innerFrame, { port: 4899 })));
    expect(p.vxlan?.vni).toBe(10001);
    expect(p.vxlan?.heuristic).toBe(true);
    expect(p.vxlan?.fields['vxlan.heuristic']).toBe(true);
    // On a table port the table decides, not the heuristic.
    expect(h(frame(vxlanPacket(1, innerFrame))).vxlan?.heuristic).toBe(false);
    expect(h(frame(vxlanPacket(1, innerFrame))).vxlan?.fields['vxlan.heuristic']).toBeUndefined();
  });

  test('the heuristic rejects what is not plain VXLAN', () => {
    const h = createDissector({ vxlanHeuristic: true });
    // DNS on port 53.
    expect(h(frame(eth(0x0800, ipv4Udp({}, { sport: 3333, dport: 53 }, DNS_QUERY)))).vxlan).toBeUndefined();
    // GBP flags (0x88), reserved bits, multicast inner source MAC, unknown inner EtherType.
    expect(h(frame(vxlanPacket(5, innerFrame, { port: 9999, flags: 0x8800 }))).vxlan).toBeUndefined();
    expect(h(frame(vxlanPacket(5, innerFrame, { port: 9999, flags: 0x0c00 }))).vxlan).toBeUndefined();
    expect(h(frame(vxlanPacket(5, eth(0x0800, innerFrame.subarray(14), MAC_BCAST, '01:00:5e:00:00:01'), { port: 9999 }))).vxlan).toBeUndefined();
    expect(h(frame(vxlanPacket(5, eth(0x1234, new Uint8Array(20)), { port: 9999 }))).vxlan).toBeUndefined();
    // Too short for a header and an inner Ethernet header.
    expect(h(frame(eth(0x0800, ipv4Udp({}, { sport: 1, dport: 9999 }, new Uint8Array([8, 0, 0, 0, 0, 0, 1, 0])))))).toMatchObject({ tunnelDepth: 0 });
  });

  test('VXLAN inside VXLAN, and the depth limit', () => {
    const dnsFrame = innerFrame;
    const level3 = eth(0x0800, ipv4Udp({ src: '3.3.3.3', dst: '3.3.3.9' }, { sport: 4789, dport: 4789 }, vxlan(3, dnsFrame)));
    const level2 = eth(0x0800, ipv4Udp({ src: '2.2.2.2', dst: '2.2.2.9' }, { sport: 4789, dport: 4789 }, vxlan(2, level3)));
    const bytes = vxlanPacket(1, level2);
    const p = dissect(frame(bytes));
    expect(protocols(p)).toBe('eth:ip:udp:vxlan:eth:ip:udp:vxlan:eth:ip:udp:vxlan:eth:ip:udp');
    expect(p.tunnelDepth).toBe(3);
    expect(p.vxlans.map((v) => [v.vni, v.depth])).toEqual([[1, 0], [2, 1], [3, 2]]);
    expect(p.vxlan!.vni).toBe(1);
    expect(p.outerIpv4!.fields['ip.src']).toBe('192.168.1.1');
    expect(p.innerIpv4!.fields['ip.src']).toBe('10.244.1.2');
    expect(p.innerUdp!.dstPort).toBe(53);
    expect(p.error).toBeNull();

    const limited = createDissector({ maxVxlanDepth: 2 })(frame(bytes));
    expect(limited.tunnelDepth).toBe(3);
    expect(protocols(limited)).toBe('eth:ip:udp:vxlan:eth:ip:udp:vxlan:eth:ip:udp:vxlan');
    expect(limited.error?.message).toBe('vxlan: inner frame not decoded: more than 2 nested VXLAN headers at offset 142');
    expect(limited.innerIpv4).toBeUndefined();
    expect(() => createDissector({ maxVxlanDepth: 1000 })).toThrow(/maxVxlanDepth must be an integer from 0 to 64/);
    expect(createDissector({ maxVxlanDepth: 0 })(frame(bytes)).layers.map((l) => l.protocol)).toEqual(['eth', 'ip', 'udp', 'vxlan']);
  });

  test('a VXLAN header cut short', () => {
    const bytes = vxlanPacket(1, innerFrame);
    const p = dissect(frame(bytes.subarray(0, 46), LinkType.EN10MB, bytes.length));
    expect(protocols(p)).toBe('eth:ip:udp');
    expect(p.error).toEqual({ layer: 'vxlan', offset: 42, message: 'vxlan: header needs 8 bytes, 4 left at offset 42', truncated: true });
    expect(isTruncated(p)).toBe(true);
    expect(isMalformed(p)).toBe(false);
  });
});

const MAC_BCAST = 'ff:ff:ff:ff:ff:ff';

describe('ICMP', () => {
  test('echo request and reply: identifier and sequence', () => {
    const p = dissect(frame(eth(0x0800, ipv4({ proto: 1 }, icmp(0, 0, (7 << 16) | 9, new Uint8Array(8))))));
    expect(p.transport?.fields).toEqual({ 'icmp.type': 0, 'icmp.code': 0, 'icmp.checksum': expect.any(Number), 'icmp.checksum.status': 'good', 'icmp.ident': 7, 'icmp.seq': 9 });
    expect(p.innerIcmp?.typeName).toBe('echo reply');
  });

  test('bad ICMP checksum counts as a header problem', () => {
    const p = dissect(frame(eth(0x0800, ipv4({ proto: 1 }, icmp(8, 0, 1, new Uint8Array(8), 0x0bad)))));
    expect(p.innerIcmp?.checksumStatus).toBe('bad');
    expect(badChecksums(p).header).toBe(1);
  });

  test('fragmentation needed quotes the outer VXLAN datagram: MTU and the quoted headers', () => {
    // The classic overlay MTU symptom: a router on the underlay cannot forward a 1550-byte VXLAN
    // packet and says so to the sending VTEP, quoting the outer IPv4/UDP/VXLAN headers.
    const tooBig = ipv4Udp({ src: '10.211.55.122', dst: '10.211.55.123', df: true, id: 77, totalLength: 1550 }, { sport: 34366, dport: 4789, checksum: 'none', length: 1530 }, new Uint8Array(0));
    const quote = concat(tooBig, vxlan(11, new Uint8Array(0)));
    const bytes = eth(0x0800, ipv4({ proto: 1, src: '10.211.55.1', dst: '10.211.55.122' }, icmp(3, 4, 1450, quote)));
    const p = dissect(frame(bytes));
    expect(protocols(p)).toBe('eth:ip:icmp:(ip):(udp):(vxlan)');
    const i = p.innerIcmp!;
    expect(i.mtu).toBe(1450);
    expect(i.typeName).toBe('destination unreachable (fragmentation needed)');
    expect(i.fields).toMatchObject({ 'icmp.type': 3, 'icmp.code': 4, 'icmp.mtu': 1450, 'icmp.checksum.status': 'good' });
    expect(i.fields['icmp.ident']).toBeUndefined();
    const q = p.quoted;
    expect(q[0]!.fields).toMatchObject({ 'ip.src': '10.211.55.122', 'ip.len': 1550, 'ip.id': 77, 'ip.flags.df': true, 'ip.checksum.status': 'good' });
    expect(q[1]!.fields).toMatchObject({ 'udp.srcport': 34366, 'udp.dstport': 4789, 'udp.length': 1530, 'udp.checksum.status': 'not present' });
    expect(q[2]!.fields['vxlan.vni']).toBe(11);
    // Helpers ignore the quoted packet: this is an ICMP packet, not a VXLAN one.
    expect(p.vxlan).toBeUndefined();
    expect(p.tunnelDepth).toBe(0);
    expect(p.outerUdp).toBeUndefined();
    expect(p.innerIpv4!.fields['ip.src']).toBe('10.211.55.1');
    expect(p.error).toBeNull();
    expect(packetToJson(p, 'f').layers.map((l) => l.quoted ?? false)).toEqual([false, false, false, true, true, true]);
  });

  test('time exceeded quoting 8 bytes of TCP: ports and sequence only', () => {
    const segment = ipv4Tcp({ src: '10.0.0.5', dst: '10.9.9.9', ttl: 1 }, { sport: 43210, dport: 443, seq: 0xdeadbeef });
    const quote = segment.subarray(0, 28);
    const p = dissect(frame(eth(0x0800, ipv4({ proto: 1, src: '10.0.0.254', dst: '10.0.0.5' }, icmp(11, 0, 0, quote)))));
    expect(protocols(p)).toBe('eth:ip:icmp:(ip):(tcp)');
    const t = p.quoted[1]!;
    expect(t.fields).toEqual({ 'tcp.srcport': 43210, 'tcp.dstport': 443, 'tcp.seq_raw': 0xdeadbeef });
    expect(p.innerIcmp!.typeName).toBe('time exceeded (TTL)');
    expect(p.innerTcp).toBeUndefined();
    expect(p.error).toBeNull();
  });

  test('redirect: the gateway, and the quoted ICMP echo', () => {
    const echo = ipv4({ proto: 1, src: '10.0.0.5', dst: '10.7.7.7' }, icmp(8, 0, (1 << 16) | 2, new Uint8Array(0)));
    const p = dissect(frame(eth(0x0800, ipv4({ proto: 1 }, icmp(5, 1, 0x0a000001, echo)))));
    expect(p.innerIcmp!.fields['icmp.redir_gw']).toBe('10.0.0.1');
    expect(protocols(p)).toBe('eth:ip:icmp:(ip):(icmp)');
    expect(p.quoted[1]!.fields).toMatchObject({ 'icmp.type': 8, 'icmp.ident': 1, 'icmp.seq': 2, 'icmp.checksum.status': 'unverified' });
  });

  test('an ICMP error quoting an ICMP error is not followed further', () => {
    const inner = ipv4({ proto: 1 }, icmp(3, 3, 0, ipv4({ proto: 1 }, icmp(3, 3, 0, new Uint8Array(8)))));
    const p = dissect(frame(eth(0x0800, ipv4({ proto: 1 }, icmp(3, 1, 0, inner)))));
    expect(protocols(p)).toBe('eth:ip:icmp:(ip):(icmp)');
  });
});

describe('TCP', () => {
  const SYN_OPTIONS = [2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7];

  test('header fields and all flags', () => {
    const p = dissect(frame(eth(0x0800, ipv4Tcp({}, { sport: 12345, dport: 80, seq: 0xfffffff0, ack: 42, flags: 0x1ff, window: 502, urgent: 7 }))));
    const t = p.innerTcp!;
    expect([t.seq, t.ack, t.window, t.urgentPointer, t.checksumStatus]).toEqual([0xfffffff0, 42, 502, 7, 'good']);
    expect(t.flagString).toBe('FSRPUEW.');
    expect(t.fields).toMatchObject({
      'tcp.srcport': 12345, 'tcp.dstport': 80, 'tcp.seq_raw': 4294967280, 'tcp.ack_raw': 42, 'tcp.hdr_len': 20,
      'tcp.flags': 0x1ff, 'tcp.flags.res': false, 'tcp.flags.ae': true, 'tcp.flags.cwr': true, 'tcp.flags.ece': true,
      'tcp.flags.urg': true, 'tcp.flags.ack': true, 'tcp.flags.push': true, 'tcp.flags.reset': true, 'tcp.flags.syn': true,
      'tcp.flags.fin': true, 'tcp.window_size_value': 502, 'tcp.urgent_pointer': 7, 'tcp.len': 0,
    });
  });

  test('options: MSS, SACK permitted, timestamps, window scale', () => {
    const p = dissect(frame(eth(0x0800, ipv4Tcp({}, { sport: 1, dport: 2, options: SYN_OPTIONS }))));
    const o = p.innerTcp!.options!;
    expect([o.mss, o.sackPermitted, o.tsval, o.tsecr, o.wscale, o.sack, o.unknown]).toEqual([1460, true, 1, 0, 7, null, null]);
    expect(p.innerTcp!.fields).toMatchObject({
      'tcp.hdr_len': 40, 'tcp.option_kind': [2, 4, 8, 1, 3], 'tcp.options.mss_val': 1460, 'tcp.options.sack_perm': true,
      'tcp.options.timestamp.tsval': 1, 'tcp.options.timestamp.tsecr': 0, 'tcp.options.wscale.shift': 7,
      'tcp.options.wscale.multiplier': 128,
    });
  });

  test('options: SACK blocks and an unknown option', () => {
    const sack = [1, 1, 5, 18, 0, 0, 0, 10, 0, 0, 0, 20, 0xff, 0xff, 0xff, 0xf0, 0, 0, 0, 5, 30, 4, 0xab, 0xcd];
    const p = dissect(frame(eth(0x0800, ipv4Tcp({}, { sport: 1, dport: 2, flags: 0x010, options: sack }))));
    const o = p.innerTcp!.options!;
    expect(o.sack).toEqual([10, 20, 0xfffffff0, 5]);
    expect(o.unknown).toEqual([[30, 4]]);
    expect(p.innerTcp!.fields).toMatchObject({
      'tcp.options.sack_le': [10, 0xfffffff0], 'tcp.options.sack_re': [20, 5], 'tcp.options.sack.count': 2,
      'tcp.option_kind': [1, 1, 5, 30],
    });
  });

  test('bad checksum: bad (offload?), not malformed unless strict', () => {
    const p = dissect(frame(eth(0x0800, ipv4Tcp({}, { sport: 1, dport: 2, checksum: 0xdead }))));
    expect(p.innerTcp!.checksumStatus).toBe('bad');
    expect(isMalformed(p)).toBe(false);
    expect(isMalformed(p, { strictChecksums: true })).toBe(true);
  });

  test('header length errors', () => {
    const small = eth(0x0800, ipv4Tcp({}, { sport: 1, dport: 2 }));
    small[34 + 12] = 0x40;
    expect(dissect(frame(small)).error?.message).toBe('tcp: header length 16 < 20 at offset 34');
    const big = eth(0x0800, ipv4Tcp({}, { sport: 1, dport: 2 }));
    big[34 + 12] = 0x60;
    expect(dissect(frame(big)).error?.message).toBe('tcp: header length 24 > 20 bytes left at offset 34');
  });

  test('payload length and range for flow hashing', () => {
    const body = new Uint8Array([71, 69, 84, 32, 47]);
    const bytes = eth(0x0800, ipv4Tcp({}, { sport: 1, dport: 80, flags: 0x018 }, body));
    const t = dissect(frame(bytes)).innerTcp!;
    expect(t.payloadLength).toBe(5);
    expect(bytes.subarray(t.offset + t.length, t.payloadEnd)).toEqual(body);
  });
});

describe('BIG TCP / TSO: IPv4 total length 0', () => {
  test('the length comes from the capture, and a UDP length of 0 from the IP payload', () => {
    const innerSegment = ipv4Tcp({ src: '192.168.1.2', dst: '192.168.1.1', totalLength: 0 }, { sport: 36875, dport: 36449, flags: 0x018 }, new Uint8Array(2000));
    const bytes = eth(0x0800, ipv4Udp({ totalLength: 0 }, { sport: 47044, dport: 4789, checksum: 'none', length: 0 }, vxlan(5001, eth(0x0800, innerSegment))));
    const p = dissect(frame(bytes));
    expect(protocols(p)).toBe('eth:ip:udp:vxlan:eth:ip:tcp');
    expect(p.outerIpv4!.lengthFromCapture).toBe(true);
    expect(p.outerIpv4!.fields['ip.len']).toBe(bytes.length - 14);
    expect(p.outerUdp!.fields['udp.length']).toBe(0);
    expect(p.outerUdp!.payloadLength).toBe(bytes.length - 14 - 20 - 8);
    expect(p.innerTcp!.payloadLength).toBe(2000);
    expect(p.error).toBeNull();
  });
});
