import type { Command } from 'commander';
import { formatWarning } from '../capture/errors.js';
import { mergeByTime } from '../capture/merge.js';
import { type CaptureReader, openCapture } from '../capture/open.js';
import { frameToJson } from '../report/frame-json.js';
import { LineOutput } from '../report/output.js';
import { clockTime } from '../report/time.js';
import { ExitCode, parseCount, reportError, UserError } from './errors.js';

const FORMATS = ['text', 'ndjson', 'json'] as const;
type Format = (typeof FORMATS)[number];

interface AnalyzeOptions {
  format: string;
  count?: string;
  skip?: string;
}

export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description('decode captures packet by packet: outer and inner headers, VNI, summary')
    .argument('<file...>', 'pcap or pcapng files; - reads standard input')
    .option('-f, --format <format>', `output format: ${FORMATS.join(', ')}`, 'text')
    .option('-c, --count <n>', 'stop after n packets')
    .option('--skip <n>', 'skip the first n packets')
    .addHelpText(
      'after',
      `
Examples:
  vxdump analyze fixtures/p2p-4789/node1-eth0.pcap
  vxdump analyze node1-eth0.pcap node2-eth0.pcap --format ndjson
  tcpdump -i eth0 -w - udp port 8472 | vxdump analyze -`,
    )
    .action((files: string[], options: AnalyzeOptions) => {
      process.exitCode = runAnalyze(files, options);
    });
}

function runAnalyze(files: string[], options: AnalyzeOptions): number {
  const captures: CaptureReader[] = [];
  try {
    const format = parseFormat(options.format);
    const count = options.count === undefined ? Infinity : parseCount(options.count, '--count');
    const skip = options.skip === undefined ? 0 : parseCount(options.skip, '--skip');
    for (const file of files) captures.push(openCapture(file));
    const out = new LineOutput();
    const printer = printerFor(format, out);
    let seen = 0;
    let shown = 0;
    for (const { frame, source } of mergeByTime(captures)) {
      if (shown >= count || !out.open) break;
      seen += 1;
      if (seen <= skip) continue;
      shown += 1;
      printer.packet(files[source]!, frame);
    }
    printer.end();
    out.flush();
    return ExitCode.OK;
  } catch (error) {
    return reportError(error);
  } finally {
    for (const capture of captures) {
      capture.close();
      for (const warning of capture.warnings) process.stderr.write(`vxdump: warning: ${formatWarning(warning)}\n`);
    }
  }
}

function parseFormat(format: string): Format {
  if ((FORMATS as readonly string[]).includes(format)) return format as Format;
  throw new UserError(`unknown --format "${format}"; choose one of ${FORMATS.join(', ')}`);
}

interface Printer {
  packet(file: string, frame: import('../capture/frame.js').Frame): void;
  end(): void;
}

function printerFor(format: Format, out: LineOutput): Printer {
  switch (format) {
    case 'ndjson':
      return {
        packet: (file, frame) =>
          out.line(JSON.stringify({ type: 'packet', file, frame: frameToJson(frame), layers: [], error: null })),
        end: () => {},
      };
    case 'json': {
      let first = true;
      out.line('{"schema":"vxdump/1","packets":[');
      return {
        packet: (file, frame) => {
          const text = JSON.stringify({ type: 'packet', file, frame: frameToJson(frame), layers: [], error: null });
          out.line(first ? text : `,${text}`);
          first = false;
        },
        end: () => out.line(']}'),
      };
    }
    case 'text':
      return {
        packet: (_file, frame) =>
          out.line(`${clockTime(frame.timestampNs)} ${frame.interfaceName ?? frame.interfaceId} ${frame.capturedLength} bytes`),
        end: () => {},
      };
  }
}
