// Runs one contender once, in a child process of its own, and says how long it took and how much
// memory it held at its peak.
//
// A child per run because peak RSS is per process: measured in the driver, it would include the
// generator's and every earlier contender's memory. /usr/bin/time (GNU time, Debian package
// `time`) reports the child's peak RSS from wait4(); without it, node children report their own
// process.resourceUsage().maxRSS and external tools go without. It reports the child's CPU time
// too (user + system, all its threads): a command that keeps two cores busy spends twice its
// wall time, and on a machine of N cores none finishes sooner than its CPU time over N.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TIME_BINARY = '/usr/bin/time';
export const haveTime = existsSync(TIME_BINARY);

/** True if `tool` is on the PATH. */
export function haveTool(tool) {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Reads the file once so the runs that follow find it in the page cache (the targets are for a
 * warm cache: we measure the reader, not the disk).
 */
export function warmPageCache(file) {
  spawnSync('cat', [file], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/**
 * Runs `argv` once. Node contenders (`reportsJson`) print one JSON line (see child/report.mjs)
 * and are timed by themselves; other commands' output goes to /dev/null and they are timed by
 * the wall clock around them, start-up included.
 *
 * Returns { seconds, wallSeconds, cpuSeconds, maxRssKb, frames, bytes, ok, error }; cpuSeconds and
 * maxRssKb are null where they were not measured.
 */
export function runOnce(argv, { reportsJson = false, timeoutSeconds = 900 } = {}) {
  const scratch = mkdtempSync(join(tmpdir(), 'vxdump-bench-time-'));
  const timeFile = join(scratch, 'time.txt');
  const command = haveTime ? [TIME_BINARY, '-f', '%M %U %S', '-o', timeFile, ...argv] : argv;
  const started = performance.now();
  const child = spawnSync(command[0], command.slice(1), {
    stdio: ['ignore', reportsJson ? 'pipe' : 'ignore', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
    timeout: timeoutSeconds * 1000,
    encoding: 'utf8',
  });
  const wallSeconds = (performance.now() - started) / 1000;

  const result = { seconds: wallSeconds, wallSeconds, cpuSeconds: null, maxRssKb: null, frames: null, bytes: null, ok: true, error: '' };
  if (haveTime && existsSync(timeFile)) {
    // GNU time puts "Command exited with non-zero status N" before the format line on failure.
    const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
    const [kb, user, system] = lines[lines.length - 1].split(' ').map(Number);
    if (Number.isFinite(kb)) result.maxRssKb = kb;
    if (Number.isFinite(user) && Number.isFinite(system)) result.cpuSeconds = user + system;
  }
  rmSync(scratch, { recursive: true, force: true });

  if (child.error || child.status !== 0) {
    result.ok = false;
    const stderr = (child.stderr ?? '').trim().split('\n').filter((l) => !/Running as user "root"/.test(l));
    result.error = child.error ? child.error.message : `exit ${child.status}: ${stderr.slice(-2).join(' | ')}`;
    return result;
  }
  if (reportsJson) {
    const line = child.stdout.trim().split('\n').pop();
    try {
      const reported = JSON.parse(line);
      result.seconds = reported.seconds;
      result.frames = reported.frames;
      result.bytes = reported.bytes;
      result.maxRssKb ??= reported.maxRssKb;
    } catch {
      result.ok = false;
      result.error = `no result line from the child (stdout: ${JSON.stringify(child.stdout.slice(-200))})`;
    }
  }
  return result;
}

/**
 * The summary of several runs of one contender on one file: the fastest run's time (the least
 * disturbed by whatever else the machine was doing) and the highest peak RSS of any run (memory
 * is not something to be lucky with). A failed run makes the whole a failure.
 */
export function best(results) {
  const failed = results.find((r) => !r.ok);
  if (failed) return { ...failed, runs: results };
  const fastest = results.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  const rss = results.map((r) => r.maxRssKb).filter((kb) => kb !== null);
  return { ...fastest, maxRssKb: rss.length > 0 ? Math.max(...rss) : null, runs: results };
}

/** Best of `runs` runs in a row (where interleaving with other contenders does not matter). */
export function bestOf(runs, argv, options) {
  const results = [];
  for (let i = 0; i < runs; i++) {
    const r = runOnce(argv, options);
    results.push(r);
    if (!r.ok) break;
  }
  return best(results);
}
