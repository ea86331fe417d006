// The ceiling: read the file's bytes into one reused 4 MiB buffer with fs.readSync and do nothing
// with them. No reader can beat it in Node; the target is vxdump within 1.3x of its time.

import { closeSync, openSync, readSync } from 'node:fs';
import { fileArgument, report } from './report.mjs';

const file = fileArgument();
const started = performance.now();
const fd = openSync(file, 'r');
const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);
let bytes = 0;
for (let n = readSync(fd, buffer, 0, buffer.length, null); n > 0; n = readSync(fd, buffer, 0, buffer.length, null)) {
  bytes += n;
}
closeSync(fd);
const seconds = (performance.now() - started) / 1000;
report({ frames: null, bytes, seconds }); // frames unknown: the driver uses the file's count
