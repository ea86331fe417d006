import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generator, parsePointArgument, trace } from '../support/built.js';
import { scratchDir } from '../support/craft.js';
import { PARALLEL_ALWAYS, PARALLEL_NEVER, REPO, SCENARIOS, readManifest, scenarioFiles, vxdumpWithThreshold } from '../correlate/support.js';

/*
 * trace's JSON writer thread (src/report/trace-json-thread.ts, trace-json-worker.ts) must change
 * nothing but the speed: the same bytes as the main thread writing the packets itself, and the
 * same error when the output cannot be written. The thread exists as built JavaScript only, so
 * these tests run the built trace (npm test builds dist/ first) and the CLI;
 * VXDUMP_PARALLEL_MIN_BYTES picks the way (0: the thread for any size; a huge value: never).
 */

type Thread = typeof import('../../src/report/trace-json-thread.js');
type Json = typeof import('../../src/report/trace-json.js');
type Output = typeof import('../../src/report/output.js');
const { TraceJsonThread, RING_SLOTS, RECORD_WORDS } = (await import('../../dist/report/trace-json-thread.js')) as Thread;
const { TraceJsonWriter } = (await import('../../dist/report/trace-json.js')) as Json;
const { LineOutput } = (await import('../../dist/report/output.js')) as Output;

const THREAD = PARALLEL_ALWAYS;
const MAIN_THREAD = PARALLEL_NEVER;

/**
 * The packets of a JSON trace of `files`, written by the writer thread or by this thread, into a
 * file: its text, and whether the thread wrote them.
 */
function packetsJson(files: readonly string[], threaded: boolean): { text: string; byThread: boolean } {
  const path = join(scratchDir('trace-json-thread-'), 'packets.json');
  const fd = openSync(path, 'w');
  const out = new LineOutput(fd);
  let labels: readonly string[] = [];
  let baseNs = 0n;
  const json = new TraceJsonWriter(out, () => labels, () => baseNs);
  const thread = threaded ? TraceJsonThread.spawn() : undefined;
  let byThread = false;
  json.start();
  try {
    trace(files.map(parsePointArgument), {
      onStart: (start) => {
        labels = start.labels;
        baseNs = start.baseNs;
        byThread = thread?.begin(out, labels, baseNs) ?? false;
      },
      onDecided: (decided) => (byThread ? thread!.decided(decided) : json.decided(decided)),
    });
    if (byThread) thread!.finish();
    out.flush();
  } finally {
    thread?.stop();
    closeSync(fd);
  }
  return { text: readFileSync(path, 'utf8'), byThread };
}


describe('the JSON writer thread', () => {
  it('writes the packets of a trace whose rings wrap many times byte for byte as the main thread does', () => {
    const dir = scratchDir('trace-json-thread-path-');
    generator.generatePath({ packets: 20_000, dir, seed: 11 });
    const files = generator.POINT_FILES.map((f) => join(dir, f));
    const threaded = packetsJson(files, true);
    const inline = packetsJson(files, false);
    expect(threaded.byThread).toBe(true);
    expect(inline.byThread).toBe(false);
    const packets = threaded.text.split('\n').filter((line) => line.includes('"sightings"'));
    // 20k packets over six points wrap the sighting ring several times, and the record ring too.
    const sightings = packets.reduce((n, line) => n + line.split('"point"').length - 1, 0);
    expect(sightings).toBeGreaterThan(4 * RING_SLOTS);
    expect(packets.length * 15).toBeGreaterThan(2 * RECORD_WORDS);
    expect(threaded.text).toBe(inline.text);
  });

  it.each(SCENARIOS)('%s: `trace --format json` prints the same bytes with and without the thread', (scenario) => {
    const files = scenarioFiles(scenario);
    const port = String(readManifest(scenario).vxlan.udpPort);
    const threaded = vxdumpWithThreshold(THREAD, 'trace', ...files, '-p', port, '-f', 'json');
    const inline = vxdumpWithThreshold(MAIN_THREAD, 'trace', ...files, '-p', port, '-f', 'json');
    expect(threaded.status).toBe(0);
    expect(threaded.stderr).toBe(inline.stderr);
    expect(threaded.stdout).toBe(inline.stdout);
    JSON.parse(threaded.stdout);
  });

  it.each([
    ['with', THREAD],
    ['without', MAIN_THREAD],
  ])('%s the thread, output that cannot be written is one line and exit 2, not a crash', (_, way) => {
    // A file size limit (ulimit -f, in KB) below the document: the packets' writes fail with EFBIG.
    const files = scenarioFiles('flannel-8472').map((f) => `'${f}'`);
    const out = join(scratchDir('trace-json-full-'), 'out.json');
    const script = `ulimit -f 16; exec '${process.execPath}' '${join(REPO, 'bin/vxdump')}' trace ${files.join(' ')} -p 8472 -f json > '${out}'`;
    const run = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, VXDUMP_PARALLEL_MIN_BYTES: way } });
    expect(run.stderr).toBe('vxdump: cannot write the output: EFBIG: file too large, write\n');
    expect(run.status).toBe(2);
  });
});
