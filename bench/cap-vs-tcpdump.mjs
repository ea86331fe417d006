#!/usr/bin/env node
// Can the `cap` addon serve live capture? Captures the same ICMP traffic on one veth with cap and
// with tcpdump at once, and compares what each got: how many packets, and the times. cap hands
// JavaScript a packet's bytes without libpcap's timestamp, so it is stamped when the 'packet'
// event runs. Needs root (two network namespaces, made and removed here, 192.0.2.0/24 inside
// them only), tcpdump and a built `cap`.
//
//   sudo node bench/cap-vs-tcpdump.mjs
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCapture } from '../dist/capture/open.js';

const SLOW = 500; // echo requests 2 ms apart, then a flood of FLOOD more
const FLOOD = 2000;
const dir = mkdtempSync(join(tmpdir(), 'cap-vs-tcpdump-'));
const run = (...args) => execFileSync(args[0], args.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
/** A program started inside namespace capB. */
const spawnInB = (args, options) => spawn('ip', ['netns', 'exec', 'capB', ...args], options);

// The cap side: every packet's event time (realtime ns) and ICMP type and sequence number.
const CAP_CHILD = `
const { Cap } = require(${JSON.stringify(join(process.cwd(), 'node_modules/cap'))});
const c = new Cap(); const buf = Buffer.alloc(65536); const out = [];
c.open('vB', 'icmp', 10 * 1024 * 1024, buf);
const base = BigInt(Date.now()) * 1000000n - process.hrtime.bigint();
c.on('packet', () => out.push(\`\${base + process.hrtime.bigint()} \${buf[34]} \${buf.readUInt16BE(40)}\`));
process.stdin.on('end', () => { c.close(); process.stdout.write(out.join('\\n')); });
process.stdin.resume();`;

run('ip', 'netns', 'add', 'capA');
run('ip', 'netns', 'add', 'capB');
try {
  run('ip', 'link', 'add', 'vA', 'netns', 'capA', 'type', 'veth', 'peer', 'name', 'vB', 'netns', 'capB');
  run('ip', '-n', 'capA', 'addr', 'add', '192.0.2.1/24', 'dev', 'vA');
  run('ip', '-n', 'capB', 'addr', 'add', '192.0.2.2/24', 'dev', 'vB');
  run('ip', '-n', 'capA', 'link', 'set', 'vA', 'up');
  run('ip', '-n', 'capB', 'link', 'set', 'vB', 'up');
  const pcap = join(dir, 'tcpdump.pcap');
  const tcpdump = spawnInB(['tcpdump', '-i', 'vB', '-w', pcap, '--time-stamp-precision=nano', 'icmp'], { stdio: 'ignore' });
  const cap = spawnInB([process.execPath, '-e', CAP_CHILD], { stdio: ['pipe', 'pipe', 'inherit'] });
  let capOut = '';
  cap.stdout.on('data', (chunk) => (capOut += chunk));
  await new Promise((resolve) => setTimeout(resolve, 1500));
  run('ip', 'netns', 'exec', 'capA', 'ping', '-q', '-i', '0.002', '-c', String(SLOW), '192.0.2.2');
  run('ip', 'netns', 'exec', 'capA', 'ping', '-q', '-f', '-c', String(FLOOD), '192.0.2.2');
  await new Promise((resolve) => setTimeout(resolve, 500));
  cap.stdin.end();
  await new Promise((resolve) => cap.on('close', resolve));
  tcpdump.kill('SIGINT');
  await new Promise((resolve) => tcpdump.on('close', resolve));

  const kernel = [...openCapture(pcap)].map((f) => ({ ns: f.timestampNs, type: f.bytes[34], seq: (f.bytes[40] << 8) | f.bytes[41] }));
  const events = capOut.trim().split('\n').filter(Boolean).map((line) => line.split(' ')).map(([ns, type, seq]) => ({ ns: BigInt(ns), type: Number(type), seq: Number(seq) }));
  // The slow pings come first in both (their sequence numbers come round again in the flood).
  const key = (p) => `${p.type}/${p.seq}`;
  const slowKernel = new Map(kernel.slice(0, 2 * SLOW).map((p) => [key(p), p.ns]));
  const slowCap = new Map();
  for (const p of events) if (p.seq <= SLOW && !slowCap.has(key(p))) slowCap.set(key(p), p.ns);
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const us = (ns) => (Number(ns) / 1000).toFixed(1);
  const rtt = (times) => [...Array(SLOW).keys()].map((i) => times.get(`0/${i + 1}`) - times.get(`8/${i + 1}`)).filter((d) => d !== undefined && !Number.isNaN(Number(d))).map(Number);
  const offsets = [...slowKernel].filter(([k]) => slowCap.has(k)).map(([k, ns]) => Number(slowCap.get(k) - ns));
  console.log(`packets: tcpdump ${kernel.length}, cap ${events.length} (of ${2 * (SLOW + FLOOD)} sent and answered)`);
  console.log(`slow pings (2 ms apart): cap got ${offsets.length} of ${slowKernel.size}; its event time minus the kernel's timestamp: ${us(Math.min(...offsets))} to ${us(Math.max(...offsets))} µs (median ${us(median(offsets))}; the clocks' bases differ by Date.now()'s millisecond)`);
  const kernelRtt = rtt(slowKernel);
  const capRtt = rtt(slowCap);
  console.log(`echo request → reply: kernel timestamps ${us(median(kernelRtt))} µs median, max ${us(Math.max(...kernelRtt))}; cap event times ${us(median(capRtt))} µs median, max ${us(Math.max(...capRtt))}`);
} finally {
  for (const ns of ['capA', 'capB']) run('ip', 'netns', 'del', ns);
  rmSync(dir, { recursive: true, force: true });
}
