import { fstatSync } from 'node:fs';
import type { Command } from 'commander';
import { type CaptureWarning, formatWarning } from '../capture/errors.js';
import { mergeByTime } from '../capture/merge.js';
import { type CaptureReader, openCapture } from '../capture/open.js';
import type { PcapReader } from '../capture/pcap.js';
import { PcapngReader } from '../capture/pcapng.js';
import { interfaceName } from '../correlate/points.js';
import { createDissector, DEFAULT_VXLAN_PORTS } from '../dissect/index.js';
import { SecondHalf, secondHalfError, secondHalfWarnings } from '../flow/parallel.js';
import { CaptureSummary } from '../flow/summary.js';
import { LineOutput } from '../report/output.js';
import { type PacketPrinter, printerFor } from '../report/packet-printers.js';
import { type CaptureStatisticsJson, summaryToJson, summaryToText } from '../report/summary.js';
import { statisticsJson } from '../report/trace-json-objects.js';
import { ExitCode, parseCount, reportError, UserError } from './errors.js';
import { Progress } from './progress.js';

const FORMATS = ['text', 'table', 'ndjson', 'json'] as const;
export type Format = (typeof FORMATS)[number];

interface AnalyzeOptions {
  format: string;
  count?: string;
  skip?: string;
  vxlanPort: string[];
  vxlanHeuristic?: boolean;
  strictChecksums?: boolean;
  mtu?: string;
  summary?: boolean;
  verbose?: boolean;
}

export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description('decode captures packet by packet (underlay, VXLAN, overlay) and summarise them')
    .argument('<file...>', 'pcap or pcapng files, merged by time; - reads standard input')
    .option('-f, --format <format>', `output format: ${FORMATS.join(', ')}`, 'text')
    .option(
      '-p, --vxlan-port <ports>',
      `UDP ports decoded as VXLAN, repeatable or comma-separated; replaces the defaults (${DEFAULT_VXLAN_PORTS.join(', ')})`,
      (value: string, previous: string[]) => [...previous, value],
      [],
    )
    .option('--vxlan-heuristic', 'also decode VXLAN on any UDP port whose payload looks like it (marked in the output)')
    .option('--strict-checksums', 'count bad UDP/TCP checksums as malformed (by default they are taken for offload)')
    .option('--mtu <bytes>', 'overlay MTU: list inner IPv4 packets longer than this in the summary')
    .option('-c, --count <n>', 'stop after n packets')
    .option('--skip <n>', 'skip the first n packets')
    .option('-s, --summary', 'print only the summary')
    .option('-v, --verbose', 'text format: every decoded field, layer by layer')
    .addHelpText(
      'after',
      `
Output formats:
  text    one line per packet, underlay | overlay, then a summary (the default)
  table   the same packets as a table
  ndjson  one JSON packet per line, then a line with "type": "summary"
  json    one document: { "schema": "vxdump/1", "files", "packets", "summary" }

Examples:
  vxdump analyze fixtures/p2p-4789/node1-eth0.pcap
  vxdump analyze eth0.pcap --vxlan-port 8472
  vxdump analyze eth0.pcap --vxlan-port 4789,4899 --summary
  vxdump analyze node1-eth0.pcap node2-eth0.pcap --format ndjson | jq -c '.layers[].protocol'
  tcpdump -i eth0 --immediate-mode -U -w - udp port 8472 | vxdump analyze - --vxlan-port 8472`,
    )
    .action((files: string[], options: AnalyzeOptions) => {
      process.exitCode = runAnalyze(files, options);
    });
}

interface Settings {
  format: Format;
  count: number;
  skip: number;
  vxlanPorts: number[] | undefined;
  mtu: number | undefined;
}

function parseSettings(options: AnalyzeOptions): Settings {
  if (!(FORMATS as readonly string[]).includes(options.format)) {
    throw new UserError(`unknown --format "${options.format}"; choose one of ${FORMATS.join(', ')}`);
  }
  return {
    format: options.format as Format,
    count: options.count === undefined ? Infinity : parseCount(options.count, '--count'),
    skip: options.skip === undefined ? 0 : parseCount(options.skip, '--skip'),
    vxlanPorts: options.vxlanPort.length === 0 ? undefined : parsePorts(options.vxlanPort),
    mtu: options.mtu === undefined ? undefined : parseCount(options.mtu, '--mtu'),
  };
}

export function parsePorts(values: string[]): number[] {
  const ports = values.flatMap((value) => value.split(',')).map((text) => text.trim());
  return ports.map((text) => {
    const port = Number(text);
    if (!/^\d+$/.test(text) || port < 1 || port > 65535) throw new UserError(`--vxlan-port: "${text}" is not a UDP port (1-65535)`);
    return port;
  });
}

function runAnalyze(files: string[], options: AnalyzeOptions): number {
  const captures: CaptureReader[] = [];
  /** Warnings about the part of a file read by a worker (after the reader's own). */
  const laterWarnings: CaptureWarning[] = [];
  try {
    const settings = parseSettings(options);
    const out = new LineOutput();
    // Before a read waits (a pipe from tcpdump running live), the packets so far are shown.
    for (const file of files) captures.push(openCapture(file, { beforeRead: () => out.flush() }));
    if (files.includes(STDIN) && readsPipe()) outliveCtrlC();
    const dissect = createDissector({ vxlanPorts: settings.vxlanPorts, vxlanHeuristic: options.vxlanHeuristic === true });
    const summary = new CaptureSummary({ mtu: settings.mtu, strictChecksums: options.strictChecksums === true });
    const printer: PacketPrinter | undefined = options.summary ? undefined : printerFor(
          settings.format,
          out,
          captures.map((capture) => ({ name: capture.file, format: capture.format })),
          options.verbose === true,
        );
    const progress = Progress.forFiles(files);

    // --summary alone on one large pcap file: the second half goes to a worker thread.
    const secondHalf =
      printer === undefined && captures.length === 1 && settings.count === Infinity && settings.skip === 0
        ? SecondHalf.start(files[0]!, {
            vxlanPorts: settings.vxlanPorts,
            vxlanHeuristic: options.vxlanHeuristic === true,
            summary: { mtu: settings.mtu, strictChecksums: options.strictChecksums === true },
          })
        : undefined;
    if (secondHalf !== undefined) {
      const capture = captures[0]!;
      const file = files[0]!;
      const started = Date.now();
      let frames = 0;
      for (let frame = capture.next(); frame !== null; frame = capture.next()) {
        frames += 1;
        summary.add(dissect(frame), file);
        if ((frames & 0xffff) === 0) progress?.update(captures);
        if (capture.position >= secondHalf.start) break;
      }
      // Only if this half's records end exactly where the worker started is its result right;
      // otherwise (or if it failed) read on from here as usual.
      const result = capture.position === secondHalf.start ? secondHalf.result(Math.max(10_000, 4 * (Date.now() - started))) : undefined;
      if (result === undefined) secondHalf.cancel();
      else {
        const error = secondHalfError(file, result, frames);
        if (error !== undefined) throw error;
        summary.merge(result.state, frames);
        const fractionWarned = capture.warnings.some((w) => w.message.startsWith('timestamp has'));
        const nanosecond = (capture.details as PcapReader).header.nanosecond;
        laterWarnings.push(...secondHalfWarnings(file, result, frames, fractionWarned, nanosecond));
        capture.close();
      }
    }

    let seen = 0;
    let shown = 0;
    if (captures.length === 1) {
      // One capture: no merging by time, and no object per frame for it.
      const capture = captures[0]!;
      const file = files[0]!;
      for (let frame = capture.next(); frame !== null; frame = capture.next()) {
        if (shown >= settings.count || !out.open) break;
        seen += 1;
        if (seen <= settings.skip) continue;
        shown += 1;
        const packet = dissect(frame);
        summary.add(packet, file);
        printer?.packet(packet, file);
        if ((shown & 0xffff) === 0) progress?.update(captures);
      }
    } else {
      for (const { frame, source } of mergeByTime(captures)) {
        if (shown >= settings.count || !out.open) break;
        seen += 1;
        if (seen <= settings.skip) continue;
        shown += 1;
        const packet = dissect(frame);
        summary.add(packet, files[source]!);
        printer?.packet(packet, files[source]!);
        if ((shown & 0xffff) === 0) progress?.update(captures);
      }
    }
    progress?.done();
    const summaryJson = summaryToJson(summary, settings.mtu);
    const statistics = captures.flatMap(captureStatisticsOf);
    if (statistics.length > 0) summaryJson.captureStatistics = statistics;
    if (printer !== undefined) printer.end(summaryJson);
    else out.line(settings.format === 'json' || settings.format === 'ndjson' ? JSON.stringify(summaryJson) : summaryToText(summaryJson));
    out.flush();
    return ExitCode.OK;
  } catch (error) {
    return reportError(error);
  } finally {
    for (const capture of captures) {
      capture.close();
      for (const warning of capture.warnings) process.stderr.write(`vxdump: warning: ${formatWarning(warning)}\n`);
    }
    for (const warning of laterWarnings) process.stderr.write(`vxdump: warning: ${formatWarning(warning)}\n`);
  }
}

const STDIN = '-';

/** Whether standard input is a pipe or socket (`tcpdump -w - | vxdump analyze -`), not a file. */
function readsPipe(): boolean {
  const stdin = fstatSync(0);
  return stdin.isFIFO() || stdin.isSocket();
}

/**
 * Ctrl-C on `tcpdump -w - | vxdump analyze -` goes to both: tcpdump writes out what it holds and
 * exits, and the pipe ends. Killed by the same signal, vxdump would lose the packets still in the
 * pipe and the summary, which is what such a run is for. So it lets SIGINT pass (a listener
 * keeps Node from dying of it) and reads on to the end of the pipe. The listener never runs while
 * a read waits: vxdump stops when its writer does, whatever it is sent.
 */
function outliveCtrlC(): void {
  process.on('SIGINT', () => {});
}

/** The Interface Statistics Blocks a pcapng capture held, as far as it was read: one entry per interface that had some. */
function captureStatisticsOf(capture: CaptureReader): CaptureStatisticsJson[] {
  const pcapng = capture.details;
  if (!(pcapng instanceof PcapngReader)) return [];
  return pcapng.interfaces
    .filter((i) => i.statistics !== undefined)
    .map((i) => ({ file: capture.file, interface: interfaceName(i.section, i.id, i.name), ...statisticsJson(i.statistics!)! }));
}
