import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { formatWarning } from '../capture/errors.js';
import type { DecidedJourney, Flow, TracedPacket } from '../correlate/flows.js';
import { type LossGroup, LossLog } from '../correlate/losses.js';
import { parsePointArgument } from '../correlate/points.js';
import { workerWorthIt } from '../correlate/decode-feed.js';
import { trace, TraceError, type TraceResult } from '../correlate/trace.js';
import { LineOutput } from '../report/output.js';
import { TraceJsonWriter } from '../report/trace-json.js';
import { jsonThreadAvailable, TraceJsonThread } from '../report/trace-json-thread.js';
import { clockText, flowTable, flowText, packetText, pointsText, totalsText } from '../report/trace-text.js';
import { parsePorts } from './analyze.js';
import { parseClockOffsets, parseDuration } from './duration-option.js';
import { readLinks } from './links-option.js';
import { limitHeapGrowth } from './heap-growth.js';
import { Progress } from './progress.js';
import { ExitCode, parseCount, reportError, UserError } from './errors.js';

const FORMATS = ['text', 'table', 'json'] as const;

interface TraceOptions {
  format: string;
  path?: string;
  vxlanPort: string[];
  vxlanHeuristic?: boolean;
  window: string;
  clockOffset: string[];
  links: string[];
  packets?: boolean;
  sample?: string;
  failOnLoss?: boolean;
  failOnNoReply?: boolean;
  flows: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerTrace(program: Command): void {
  program
    .command('trace')
    .description('follow each packet over several capture points: path, header changes per hop, latency, losses')
    .argument('<point...>', 'capture files, labelled node/interface from their names (node1-vxlan11.pcap) or as node1/eth0=FILE')
    .option('-f, --format <format>', `output format: ${FORMATS.join(', ')}`, 'text')
    .option('--path <points>', 'the points in path order, comma-separated (node1/br0,node1/vxlan11,...); inferred when left out')
    .option('-p, --vxlan-port <ports>', 'UDP ports decoded as VXLAN, repeatable or comma-separated (default 4789, 8472)', collect, [])
    .option('--vxlan-heuristic', 'also decode VXLAN on any UDP port whose payload looks like it')
    .option('--window <duration>', 'longest time between two sightings of one packet', '200ms')
    .option('--clock-offset <node=offset>', "a node's clock offset from the first point's node (node2=+2.5s), instead of the estimate; repeatable", collect, [])
    .option('--links <node=file>', 'names for the interfaces of a node\'s tcpdump -i any capture: what `ip -j link` or `ip -o link` printed there; repeatable', collect, [])
    .option('--packets', 'text and table: also list every packet with its sightings')
    .option('--flows <n>', 'text and table: the flows shown, the biggest first, plus those with losses or without a reply ("all" for every one)', '20')
    .option('--sample <frames>', 'frames per capture read first to estimate clocks and order', '20000')
    .option('--fail-on-loss', 'exit with 1 when a packet was lost between two points')
    .option('--fail-on-no-reply', 'exit with 1 when a TCP SYN, echo request or DNS query got no reply at any point')
    .addHelpText(
      'after',
      `
Examples:
  vxdump trace fixtures/p2p-4789/*.pcap
  vxdump trace node1-br0.pcap node1-vxlan11.pcap node1-eth0.pcap node2-eth0.pcap --vxlan-port 8472
  vxdump trace node1/eth0=a.pcap node2/eth0=b.pcap --clock-offset node2=+2.5s --format json`,
    )
    .action((points: string[], options: TraceOptions) => {
      process.exitCode = runTrace(points, options);
    });
}

function runTrace(points: string[], options: TraceOptions): number {
  limitHeapGrowth(options.format === 'json' || options.packets === true);
  let progress: Progress | undefined;
  let thread: TraceJsonThread | undefined;
  try {
    if (!(FORMATS as readonly string[]).includes(options.format)) {
      throw new UserError(`unknown --format "${options.format}"; choose one of ${FORMATS.join(', ')}`);
    }
    const out = new LineOutput();
    const losses = new LossLog();
    let labels: string[] = [];
    let baseNs = 0n;
    const json = options.format === 'json' ? new TraceJsonWriter(out, () => labels, () => baseNs) : undefined;
    const args = points.map(parsePointArgument);
    // Large captures' packets are written by a thread of their own (trace-json-thread.ts).
    thread = json !== undefined && jsonThreadWorthIt(args.map((arg) => arg.file)) ? TraceJsonThread.spawn() : undefined;
    let threaded = false;
    const listed: string[] = [];
    json?.start();
    const onPacket = (packet: TracedPacket): void => {
      losses.add(packet);
      if (options.packets) listed.push(packetText(packet, labels, baseNs));
    };
    const result = trace(args, {
      vxlanPorts: options.vxlanPort.length === 0 ? undefined : parsePorts(options.vxlanPort),
      vxlanHeuristic: options.vxlanHeuristic === true,
      windowNs: parseDuration(options.window, '--window'),
      path: options.path?.split(',').map((s) => s.trim()),
      clockOffsets: parseClockOffsets(options.clockOffset),
      interfaceNames: readLinks(options.links),
      sampleFrames: parseCount(options.sample ?? '20000', '--sample'),
      onStart: (start) => {
        labels = start.labels;
        baseNs = start.baseNs;
        threaded = thread?.begin(out, labels, baseNs) ?? false;
        progress = Progress.forFiles(args.map((arg) => arg.file));
      },
      onProgress: (fraction) => progress?.show(fraction),
      // JSON is written straight from the sighting store; the text report without --packets
      // needs only the lost packets (far fewer objects); --packets needs every one.
      ...(json !== undefined
        ? {
            onDecided: (decided: DecidedJourney) => {
              losses.addDecided(decided);
              if (threaded) thread!.decided(decided);
              else json.decided(decided);
            },
          }
        : options.packets
          ? { onPacket }
          : { onLost: onPacket }),
    });
    progress?.done();
    losses.judgeSizes(result.hopSizes);
    for (const warning of result.warnings) process.stderr.write(`vxdump: warning: ${formatWarning(warning)}\n`);
    if (threaded) thread!.finish();
    if (json !== undefined) json.end(result, losses);
    else out.line(textReport(result, losses, options.format === 'table', listed, parseFlowCount(options.flows)));
    out.flush();
    const failed = (options.failOnLoss && losses.total > 0) || (options.failOnNoReply && result.flows.some((f) => f.unanswered));
    return failed ? ExitCode.DIFFERENCE : ExitCode.OK;
  } catch (error) {
    progress?.done();
    thread?.stop();
    if (error instanceof TraceError) return reportError(new UserError(error.message));
    return reportError(error);
  }
}

/** Whether the captures are large enough for the JSON writer thread: as for trace's decode worker (VXDUMP_PARALLEL_MIN_BYTES). */
function jsonThreadWorthIt(files: readonly string[]): boolean {
  const bytes = files.reduce((sum, file) => sum + (statSync(file, { throwIfNoEntry: false })?.size ?? 0), 0);
  return workerWorthIt(bytes) && jsonThreadAvailable();
}

function parseFlowCount(value: string): number {
  return value === 'all' ? Infinity : parseCount(value, '--flows');
}

function textReport(result: TraceResult, losses: LossLog, asTables: boolean, listed: readonly string[], flowCount: number): string {
  const labels = result.points.map((p) => p.point.label);
  const parts = [pointsText(result)];
  const clock = clockText(result.clock);
  if (clock !== '') parts.push(clock);
  parts.push(totalsText(result, losses));
  const ladder = (flow: Flow, flowLosses: readonly LossGroup[]) => (asTables ? flowTable(flow, labels, flowLosses) : flowText(flow, labels, flowLosses));
  // The path at a glance: every packet, one ladder per direction (with a single flow it is that flow).
  if (result.flows.length > 1) {
    for (const direction of result.directions) {
      if (direction.packets > 0) parts.push(ladder(direction, mergeLosses(direction, losses.all.filter((g) => g.flow.forward === direction.forward))));
    }
  }
  const shown = selectFlows(result.flows, flowCount);
  if (shown.length < result.flows.length) {
    parts.push(`Flows: ${result.flows.length}; shown are the ${shown.length} with the most packets, with losses or without a reply (--flows all shows every one, --format json has them all).`);
  }
  for (const flow of shown) parts.push(ladder(flow, losses.ofFlow(flow)));
  if (listed.length > 0) parts.push(`Packets:\n${listed.join('\n')}`);
  return parts.join('\n\n');
}

/**
 * The flows a text report shows: the `count` with the most packets, and those with losses or
 * without a reply (up to `count` more), in the order they were first seen.
 */
function selectFlows(flows: readonly Flow[], count: number): Flow[] {
  if (flows.length <= count) return [...flows];
  const biggest = [...flows].sort((a, b) => b.packets - a.packets || a.id - b.id).slice(0, count);
  const troubled = flows.filter((f) => (f.lost > 0 || f.unanswered) && !biggest.includes(f)).slice(0, count);
  const chosen = new Set([...biggest, ...troubled]);
  return flows.filter((f) => chosen.has(f));
}

/** The losses of many flows as one group per hop, for a direction's ladder. */
function mergeLosses(direction: Flow, groups: readonly LossGroup[]): LossGroup[] {
  const merged = new Map<string, LossGroup>();
  for (const group of groups) {
    const key = `${group.after} ${group.before}`;
    const known = merged.get(key);
    const named = group.packets.map((p) => ({ ...p, name: `${group.flow.name} ${p.name}` }));
    if (known === undefined) merged.set(key, { ...group, flow: direction, packets: named });
    else {
      known.count += group.count;
      known.packets.push(...named);
      known.smallestLength = Math.min(known.smallestLength, group.smallestLength);
    }
  }
  return [...merged.values()];
}
