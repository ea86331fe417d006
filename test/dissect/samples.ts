/**
 * Real and crafted packets shared by the robustness and JSON tests: the crafted set, every frame
 * of the peer corpus's VXLAN samples (when ../shared/corpus is there) and of the lab fixtures.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Frame } from '../../src/capture/frame.js';
import { openCapture } from '../../src/capture/open.js';
import { arp, concat, eth, frame, icmp, ipv4, ipv4Tcp, ipv4Udp, primerEchoRequest, tag, vxlan, vxlanPacket } from './craft.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const CORPUS = resolve(HERE, '../../../shared/corpus');
export const FIXTURES = resolve(HERE, '../../fixtures');

export function crafted(): Uint8Array[] {
  const dns = eth(0x0800, ipv4Udp({ src: '10.244.1.2', dst: '10.244.2.2' }, { sport: 40000, dport: 53 }, new Uint8Array(20)));
  return [
    primerEchoRequest(),
    vxlanPacket(0xabcdef, dns, { flags: 0x8848, gbp: 0x1234 }),
    vxlanPacket(1, eth(0x0800, ipv4Udp({}, { sport: 4789, dport: 4789 }, vxlan(2, dns)))),
    eth(0x88a8, tag(200, 0x8100, tag(2001, 0x0800, ipv4Udp({ options: [148, 4, 0, 0] }, { sport: 1, dport: 4789 }, vxlan(3, dns))))),
    eth(0x0800, ipv4({ proto: 1 }, icmp(3, 4, 1450, concat(ipv4Udp({ totalLength: 1550 }, { sport: 1, dport: 4789, length: 1530 }, new Uint8Array(0)), vxlan(11, dns))))),
    eth(0x0800, ipv4Tcp({}, { sport: 1, dport: 2, options: [2, 4, 5, 0xb4, 1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0] }, new Uint8Array(30))),
    vxlanPacket(4, eth(0x0806, arp({ opcode: 1, senderIp: '10.0.0.1', targetIp: '10.0.0.2' }))),
  ];
}

export function framesOf(path: string): Frame[] {
  const out: Frame[] = [];
  for (const f of openCapture(path)) {
    out.push({ ...f, timestampNs: f.timestampNs, bytes: Uint8Array.from(f.bytes) });
  }
  return out;
}

export function realFrames(): Frame[] {
  const frames: Frame[] = crafted().map((b) => frame(b));
  const misc = join(CORPUS, 'misc');
  if (existsSync(misc)) {
    for (const f of readdirSync(misc).filter((n) => n.endsWith('.pcap'))) frames.push(...framesOf(join(misc, f)));
    for (const f of ['vxlan.pcap', 'gso-ipv4-vxlan-ipv4.pcap', '802.1ad_QinQ.pcap', 'bigtcp-ipv4-vxlan-ipv4.pcap']) {
      const path = join(CORPUS, 'tcpdump', f);
      if (existsSync(path)) frames.push(...framesOf(path));
    }
  }
  if (existsSync(FIXTURES)) {
    for (const scenario of readdirSync(FIXTURES, { withFileTypes: true }).filter((d) => d.isDirectory())) {
      const dir = join(FIXTURES, scenario.name);
      for (const f of readdirSync(dir).filter((n) => /\.pcap(ng)?$/.test(n))) frames.push(...framesOf(join(dir, f)));
    }
  }
  return frames;
}

