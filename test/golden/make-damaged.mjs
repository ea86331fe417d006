// Writes test/golden/damaged-200.pcap from bench-200.pcap: the same 200 frames with some damaged
// on purpose, so that the goldens cover bad checksums at every layer, snap-length cuts and
// frames shorter than their headers say. Deterministic; run from the repository:
//
//   node test/golden/make-damaged.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const input = readFileSync(new URL('bench-200.pcap', import.meta.url));
const chunks = [input.subarray(0, 24)];
let at = 24;
for (let i = 0; at < input.length; i++) {
  const header = Buffer.from(input.subarray(at, at + 16));
  const captured = header.readUInt32LE(8);
  const frame = Buffer.from(input.subarray(at + 16, at + 16 + captured));
  at += 16 + captured;
  let keep = captured;
  if (i % 7 === 1) frame[captured - 1] ^= 0x5a; // last payload byte: a bad transport/ICMP checksum
  if (i % 11 === 2) frame[14 + 8] ^= 0x01; // outer TTL: a bad outer IPv4 header checksum
  if (i % 13 === 3 && captured > 50 + 14 + 20) frame[50 + 14 + 8] ^= 0x01; // inner TTL (if VXLAN)
  if (i % 17 === 4) keep = Math.min(captured, 60); // cut by the snap length
  if (i % 19 === 5) keep = Math.min(captured, 30);
  if (i % 23 === 6) {
    keep = Math.min(captured, 70); // shorter than the IPv4 total length says, not by the snap length
    header.writeUInt32LE(keep, 12);
  }
  if (i % 29 === 7) frame[14 + 20 + 8] = 0x00; // VXLAN flags without the I bit
  header.writeUInt32LE(keep, 8);
  chunks.push(header, frame.subarray(0, keep));
}
writeFileSync(new URL('damaged-200.pcap', import.meta.url), Buffer.concat(chunks));
