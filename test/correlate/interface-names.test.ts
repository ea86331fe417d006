import { describe, expect, it } from 'vitest';
import { parseLinkList } from '../../src/correlate/interface-names.js';

/*
 * The link listings `--links` reads: what `ip -j link`, `ip -o link` and `ip link` print (iproute2
 * 6.1, as on the lab's nodes; a veth pair end shows its peer after @).
 */

describe('parseLinkList', () => {
  const expected = new Map([
    [1, 'lo'],
    [2, 'eth0'],
    [4, 'veth1b'],
    [5, 'vxlan11'],
  ]);

  it('reads ip -j link', () => {
    const json = JSON.stringify([
      { ifindex: 1, ifname: 'lo', flags: ['LOOPBACK', 'UP'], mtu: 65536, link_type: 'loopback' },
      { ifindex: 2, link_index: 2, ifname: 'eth0', flags: ['BROADCAST'], link_netnsid: 0 },
      { ifindex: 4, link_index: 2, ifname: 'veth1b', master: 'br0' },
      { ifindex: 5, ifname: 'vxlan11', linkinfo: { info_kind: 'vxlan' } },
    ]);
    expect(parseLinkList(json)).toEqual(expected);
  });

  // What `ip link` printed; `ip -o link` prints each link on one line, its lines joined by "\".
  const ipLink = [
    '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000',
    '    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00',
    '2: eth0@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000',
    '    link/ether 02:00:0a:d3:37:7a brd ff:ff:ff:ff:ff:ff link-netns node2',
    '4: veth1b@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master br0 state UP mode DEFAULT group default qlen 1000',
    '    link/ether 5e:1c:0b:7d:41:a2 brd ff:ff:ff:ff:ff:ff link-netns ns1',
    '5: vxlan11: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000',
    '    link/ether 02:00:0a:f4:01:00 brd ff:ff:ff:ff:ff:ff',
    '',
  ].join('\n');

  it('reads ip link, with the link-layer lines between', () => {
    expect(parseLinkList(ipLink)).toEqual(expected);
  });

  it('reads ip -o link, one link a line', () => {
    const oneLine = ipLink.replace(/\n {4}/g, '\\    ');
    expect(oneLine.split('\n').filter((l) => l !== '')).toHaveLength(4);
    expect(parseLinkList(oneLine)).toEqual(expected);
  });

  it('finds nothing in something else', () => {
    expect(parseLinkList('{"ifindex": 2}')).toEqual(new Map());
    expect(parseLinkList('eth0 is up')).toEqual(new Map());
  });
});
