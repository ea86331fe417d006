// The vxdump reader on its own: every frame of the file through openCapture's fast path, nothing
// else. f.bytes[0] is read so that the view onto the frame's bytes is really made.

import { openCapture } from '../../dist/capture/open.js';
import { fileArgument, report } from './report.mjs';

const file = fileArgument();
const started = performance.now();
const capture = openCapture(file);
let frames = 0;
let bytes = 0;
let touched = 0;
for (let f = capture.next(); f !== null; f = capture.next()) {
  frames++;
  bytes += f.capturedLength;
  touched += f.bytes[0];
}
const seconds = (performance.now() - started) / 1000;
if (touched < 0) console.log(touched); // keep the read from being optimised away
report({ frames, bytes, seconds });
