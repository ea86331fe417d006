// pcap-parser (npm), the package on the design card: a stream parser emitting 'packet' events.
// It reads only microsecond classic pcap.

import { createRequire } from 'node:module';
import { fileArgument, report } from './report.mjs';

const require = createRequire(import.meta.url);
const pcapParser = require('pcap-parser');

const file = fileArgument();
const started = performance.now();
let frames = 0;
let bytes = 0;
let touched = 0;
const parser = pcapParser.parse(file);
parser.on('packet', (packet) => {
  frames++;
  bytes += packet.header.capturedLength;
  touched += packet.data[0];
});
parser.on('error', (error) => {
  process.stderr.write(`pcap-parser: ${error.message}\n`);
  process.exitCode = 1;
});
parser.on('end', () => {
  const seconds = (performance.now() - started) / 1000;
  if (touched < 0) console.log(touched);
  report({ frames, bytes, seconds });
});
