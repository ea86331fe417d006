// What a node contender child prints on stdout when done: one JSON line that bench/measure.mjs
// reads. `seconds` is the time of the reading itself (from opening the file to the last frame),
// without node's start-up, which /usr/bin/time's wall clock would include.

export function report({ frames, bytes, seconds }) {
  const maxRssKb = process.resourceUsage().maxRSS; // the fallback when /usr/bin/time is missing
  process.stdout.write(JSON.stringify({ frames, bytes, seconds, maxRssKb }) + '\n');
}

export function fileArgument() {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write(`usage: node ${process.argv[1]} FILE\n`);
    process.exit(2);
  }
  return file;
}
