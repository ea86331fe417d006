import type { Command } from 'commander';
import { formatWarning } from '../capture/errors.js';
import { PacketDiff } from '../correlate/diff.js';
import { parsePointArgument, splitLabel } from '../correlate/points.js';
import { trace, TraceError } from '../correlate/trace.js';
import { diffJson, diffText } from '../report/diff-report.js';
import { LineOutput } from '../report/output.js';
import { parsePorts } from './analyze.js';
import { parseClockOffsets, parseDuration } from './duration-option.js';
import { readLinks } from './links-option.js';
import { Progress } from './progress.js';
import { ExitCode, reportError, UserError } from './errors.js';

const FORMATS = ['text', 'json'] as const;

interface DiffOptions {
  format: string;
  vxlanPort: string[];
  vxlanHeuristic?: boolean;
  window: string;
  clockOffset: string[];
  links: string[];
  failOnLoss?: boolean;
  failOnNoReply?: boolean;
  failOnChange: string[];
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description('compare two capture points (A before B on the path): matched, lost, new, and what changed')
    .argument('<a>', 'the capture point nearer the sender (a file, or node/if=FILE)')
    .argument('<b>', 'the capture point after it')
    .option('-f, --format <format>', `output format: ${FORMATS.join(', ')}`, 'text')
    .option('-p, --vxlan-port <ports>', 'UDP ports decoded as VXLAN, repeatable or comma-separated (default 4789, 8472)', collect, [])
    .option('--vxlan-heuristic', 'also decode VXLAN on any UDP port whose payload looks like it')
    .option('--window <duration>', 'longest time between the two sightings of one packet', '200ms')
    .option('--clock-offset <node=offset>', "B's (or A's) node clock offset instead of the estimate; repeatable", collect, [])
    .option('--links <node=file>', 'names for the interfaces of a node\'s tcpdump -i any capture: what `ip -j link` or `ip -o link` printed there; repeatable', collect, [])
    .option('--fail-on-loss', 'exit with 1 when a packet of a flow that reaches B was not seen at B')
    .option('--fail-on-no-reply', 'exit with 1 when a TCP SYN, echo request or DNS query got no reply at A or B')
    .option('--fail-on-change <field>', 'exit with 1 when a matched packet changed this field (ip.ttl, eth.src, vxlan.vni, ...); repeatable', collect, [])
    .addHelpText(
      'after',
      `
Examples:
  vxdump diff fixtures/p2p-4789/node1-br0.pcap fixtures/p2p-4789/node1-vxlan11.pcap
  vxdump diff node1-eth0.pcap node2-eth0.pcap --fail-on-loss --fail-on-change ip.ttl`,
    )
    .action((a: string, b: string, options: DiffOptions) => {
      process.exitCode = runDiff(a, b, options);
    });
}

function runDiff(aArgument: string, bArgument: string, options: DiffOptions): number {
  let progress: Progress | undefined;
  try {
    if (!(FORMATS as readonly string[]).includes(options.format)) {
      throw new UserError(`unknown --format "${options.format}"; choose one of ${FORMATS.join(', ')}`);
    }
    let diff: PacketDiff | undefined;
    let labels: string[] = [];
    const args = [parsePointArgument(aArgument), parsePointArgument(bArgument)];
    const result = trace(args, {
      vxlanPorts: options.vxlanPort.length === 0 ? undefined : parsePorts(options.vxlanPort),
      vxlanHeuristic: options.vxlanHeuristic === true,
      windowNs: parseDuration(options.window, '--window'),
      clockOffsets: parseClockOffsets(options.clockOffset),
      interfaceNames: readLinks(options.links),
      fixedOrder: true,
      flowsForLossesOnly: true,
      onStart: (start) => {
        if (start.labels.length !== 2) {
          // A file with several points (tcpdump -i any, a multi-interface pcapng) gives them one node.
          const node = (label: string) => splitLabel(label).node;
          const several = start.labels.find((l) => start.labels.filter((m) => node(m) === node(l)).length > 1);
          const hint = several === undefined ? '' : `; take one of a file's points by its label: ${several}=FILE`;
          throw new TraceError(`diff compares two capture points; these files hold ${start.labels.length} (${start.labels.join(', ')})${hint}`);
        }
        labels = start.labels;
        diff = new PacketDiff(0, 1);
        progress = Progress.forFiles(args.map((arg) => arg.file));
      },
      onDecided: (decided) => diff!.add(decided),
      onProgress: (fraction) => progress?.show(fraction),
    });
    progress?.done();
    for (const warning of result.warnings) process.stderr.write(`vxdump: warning: ${formatWarning(warning)}\n`);
    const [a, b] = labels as [string, string];
    const out = new LineOutput();
    out.line(options.format === 'json' ? JSON.stringify(diffJson(result, diff!, a, b)) : diffText(result, diff!, a, b));
    out.flush();
    const changed = options.failOnChange.some((field) => diff!.forward.changedField(field) + diff!.backward.changedField(field) > 0);
    const unanswered = options.failOnNoReply === true && result.flows.some((f) => f.unanswered);
    return (options.failOnLoss && diff!.lost > 0) || changed || unanswered ? ExitCode.DIFFERENCE : ExitCode.OK;
  } catch (error) {
    progress?.done();
    if (error instanceof TraceError) return reportError(new UserError(error.message));
    return reportError(error);
  }
}
