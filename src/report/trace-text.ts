import Table from 'cli-table3';
import { captureDrops } from '../correlate/capture-statistics.js';
import { describeChanges } from '../correlate/changes.js';
import type { ClockOffset } from '../correlate/clock.js';
import { packetName } from '../correlate/describe.js';
import { DUPLICATE_WITHIN_NS } from '../correlate/journeys.js';
import type { Flow, TracedPacket } from '../correlate/flows.js';
import { icmpErrorText } from '../correlate/icmp-errors.js';
import { type LossGroup, type LossLog, tooBig } from '../correlate/losses.js';
import type { PointStats, TraceResult } from '../correlate/trace.js';
import { formatDuration, formatOffset } from './duration.js';
import { counted } from './plural.js';
import { clockTime } from './time.js';

/**
 * `vxdump trace` for people: the points in path order, the clocks, then every flow as a ladder
 * down its path, one row per hop with its latency and its changes in words, and the losses
 * where they happened. `--packets` adds one line per packet.
 */

const LOST_NAMES_SHOWN = 12;

export function pointsText(result: TraceResult): string {
  const lines: string[] = [];
  const how = result.order.source === 'given' ? 'as given by --path' : 'inferred from the traffic; fix it with --path';
  lines.push(`Capture points in path order (${how}):`);
  const width = Math.max(...result.points.map((p) => p.point.label.length));
  result.order.points.forEach((index, at) => {
    const { point, frames, unidentified, cut, duplicates } = result.points[index]!;
    let odd = unidentified > 0 ? `, ${unidentified} without an Ethernet header` : '';
    if (cut > 0) odd += `, ${cut} cut inside their headers by the snap length, which match no other point's`;
    if (duplicates > 0) odd += `, ${duplicatesText(duplicates)}`;
    odd += droppedText(result.points[index]!);
    lines.push(`  ${String(at + 1).padStart(2)}  ${point.label.padEnd(width)}  ${counted(frames, 'frame')}${odd}  (${point.file})`);
  });
  return lines.join('\n');
}

/** ", 125 dropped by the capture itself (pcapng statistics)"; empty where it dropped none or does not say. */
export function droppedText(point: PointStats): string {
  const drops = captureDrops(point.statistics);
  return drops === null || drops === 0 ? '' : `, ${drops} dropped by the capture itself (pcapng statistics)`;
}

/**
 * Where packets were lost next to a point whose capture dropped packets itself: those losses may
 * be the capture's (tcpdump's "dropped by kernel"), not the network's. Empty where none was.
 */
export function capturesDroppedText(result: TraceResult, pointsNextToLosses: readonly number[]): string {
  const dropped = [...new Set(pointsNextToLosses)].map((i) => result.points[i]!).filter((p) => (captureDrops(p.statistics) ?? 0) > 0);
  if (dropped.length === 0) return '';
  const named = dropped.map((p) => `${p.point.label} (${captureDrops(p.statistics)})`).join(', ');
  return `The capture dropped packets itself at ${named}, by its pcapng statistics: losses next to it may be the capture's, not the network's.`;
}

/** "8 duplicates (...)": frames left out as the same frame again at the same point (JourneyMatcher). */
export function duplicatesText(count: number): string {
  return `${counted(count, 'duplicate')} (the same frame again within ${DUPLICATE_WITHIN_NS / 1000} µs), left out`;
}

export function clockText(clock: readonly ClockOffset[]): string {
  if (clock.length <= 1) return '';
  const lines = [`Clocks (relative to ${clock[0]!.reference}):`];
  const width = Math.max(...clock.map((c) => c.node.length));
  for (const c of clock) {
    const name = c.node.padEnd(width);
    switch (c.method) {
      case 'reference':
        lines.push(`  ${name}  reference`);
        break;
      case 'given':
        lines.push(`  ${name}  ${formatOffset(c.offsetNs)} (given by --clock-offset)`);
        break;
      case 'none':
        lines.push(`  ${name}  unknown: no packet seen both here and on another node; taken as 0`);
        break;
      default: {
        const bound = c.uncertaintyNs === null ? 'one-way traffic only, an upper bound' : `\u00b1 ${formatDuration(c.uncertaintyNs)}`;
        const via = c.via === null ? '' : `, from ${c.via[0]} \u2194 ${c.via[1]}`;
        const samples = c.samples === null ? '' : ` (${c.samples[0]} + ${c.samples[1]} packets)`;
        lines.push(`  ${name}  ${formatOffset(c.offsetNs)} ${bound}${via}${samples}`);
        const drift = driftText(c);
        if (drift !== '') lines.push(`  ${' '.repeat(width)}  ${drift}`);
      }
    }
  }
  return lines.join('\n');
}

/**
 * "drifting +49.9 ppm: +1.750099 s at the last packet, 1.9 s on; corrected 4 times by the
 * traffic": how a followed offset moved (clock-drift.ts); '' for a steady one.
 */
export function driftText(c: ClockOffset): string {
  const drift = c.drift;
  if (drift === undefined || (drift.corrections === 0 && c.rate === 0)) return '';
  const ppm = drift.nsPerSecond / 1000;
  const span = drift.spanNs >= 1e9 ? `${(drift.spanNs / 1e9).toFixed(1)} s` : formatDuration(drift.spanNs);
  const corrected = drift.corrections === 0 ? 'as the sample showed it' : `corrected ${counted(drift.corrections, 'time')} by the traffic`;
  return `drifting ${ppm >= 0 ? '+' : '\u2212'}${Math.abs(ppm).toFixed(1)} ppm: ${formatOffset(drift.endOffsetNs)} at the last packet, ${span} on; ${corrected}`;
}

export function totalsText(result: TraceResult, losses: LossLog): string {
  const expired = result.flows.reduce((n, f) => n + f.expired, 0);
  const expiredText = expired === 0 ? '' : `, ${expired} expired (their TTL ran out at a router: traceroute, mtr)`;
  const totals = `${counted(result.packets, 'packet')} followed, ${result.matched} of them seen at two points or more, ${losses.total} lost${expiredText}, in ${counted(result.flows.length, 'flow')}.`;
  const lines = [totals, unansweredText(result), capturesDroppedText(result, losses.all.flatMap((g) => [g.after, g.before]))];
  return lines.filter((line) => line !== '').join('\n');
}

/**
 * "No reply seen to 1 flow that asked for one (...): ICMP ... (last seen at node2/eth0).", and
 * the flows that asked too near the captures' end to tell; empty when there are neither.
 */
export function unansweredText(result: TraceResult): string {
  const unanswered = result.flows.filter((f) => f.unanswered);
  const late = result.flows.filter((f) => f.askedAtCaptureEnd);
  const lateNames = nameList(late.slice(0, UNANSWERED_NAMES_SHOWN).map((f) => f.name), late.length);
  const lateText =
    late.length === 0
      ? ''
      : `Too late to tell: ${counted(late.length, 'flow')} asked less than ${formatDuration(result.windowNs)} (--window) before the captures stopped, and no reply came before then: ${lateNames}.`;
  if (unanswered.length === 0) return lateText;
  const labels = result.points.map((p) => p.point.label);
  // A probe whose TTL ran out got "time exceeded" rather than a reply, a packet too big for the
  // tunnel "fragmentation needed": say so beside it.
  const why = (f: Flow) => (f.icmpError !== null ? `; ${icmpErrorText(f.icmpError)}` : f.expired > 0 ? ', its TTL ran out' : '');
  const where = (f: Flow) => `last seen at ${labels[f.path[f.path.length - 1]!]}${why(f)}`;
  const named = nameList(unanswered.slice(0, UNANSWERED_NAMES_SHOWN).map((f) => `${f.name} (${where(f)})`), unanswered.length);
  const text = `No reply seen to ${counted(unanswered.length, 'flow')} that asked for one (TCP SYN, echo request, DNS query): ${named}.`;
  return lateText === '' ? text : `${text}\n${lateText}`;
}

/** Unanswered flows named in the totals; the flows' own ladders say it too. */
const UNANSWERED_NAMES_SHOWN = 5;

/** A flow's first line: its name, VNIs, packets and what befell them. */
function flowHeader(flow: Flow): string {
  const vni = flow.vnis.length > 0 ? `, VNI ${flow.vnis.join(', ')}` : '';
  const lost = flow.lost > 0 ? `, ${flow.lost} lost` : '';
  const resegmented = flow.resegmented > 0 ? `, ${flow.resegmented} resegmented on the way (GSO/GRO)` : '';
  const expired = flow.expired > 0 ? `, ${flow.expired} expired (TTL ran out)` : '';
  const unanswered = flow.unanswered ? ', no reply seen' : flow.askedAtCaptureEnd ? ', no reply seen before the captures stopped' : '';
  return `${flow.name}${vni}: ${counted(flow.packets, 'packet')}${lost}${resegmented}${expired}${unanswered}`;
}

/** One flow as a ladder: the path down, a row per point, losses between the rows. */
export function flowText(flow: Flow, labels: readonly string[], losses: readonly LossGroup[]): string {
  const lines = [flowHeader(flow)];
  const width = Math.max(...flow.path.map((p) => labels[p]!.length));
  const hops = new Map(flow.hops.map((h) => [h.to, h]));
  flow.path.forEach((point, at) => {
    const label = labels[point]!.padEnd(width);
    if (at === 0) {
      lines.push(`  ${label}  first seen`);
    } else {
      const hop = hops.get(point);
      if (hop === undefined) {
        lines.push(`  ${label}  (no packet seen here right after ${labels[flow.path[at - 1]!]})`);
      } else {
        const latency = hop.packets === 1 ? formatOffset(hop.latency.median) : `${formatOffset(hop.latency.median)} median, max ${formatDuration(hop.latency.max)}`;
        const count = hop.packets === flow.packets ? '' : ` [${counted(hop.packets, 'packet')}]`;
        lines.push(`  ${label}  ${latency}${count}: ${describeChanges(hop.changes, hop.varying)}`);
      }
    }
    for (const group of losses) {
      if (group.after !== point) continue;
      const names = nameList(group.packets.slice(0, LOST_NAMES_SHOWN).map((p) => p.name), group.count);
      lines.push(`  ${' '.repeat(width)}  \u2716 ${group.count} lost before ${labels[group.before]}: ${names}`);
      if (tooBig(group)) lines.push(`  ${' '.repeat(width)}    ${tooBigText(group, labels)}`);
    }
  });
  const errors = icmpErrorsLine(flow);
  if (errors !== '') lines.push(errors);
  if (flow.quotedFlows.length > 0) lines.push(quotedFlowsLine(flow));
  return lines.join('\n');
}

/** "all larger than any packet that got to node1/vxlan11 (at most 1464 bytes here): ...": see tooBig. */
function tooBigText(group: LossGroup, labels: readonly string[]): string {
  return tooBigWords(group.count, `to ${labels[group.before]}`, group.largestCrossed!, 'here');
}

/** The words for lost packets too big to cross (trace's losses, diff's): "all larger than any packet that got {way} (at most N bytes {where}): ...". */
export function tooBigWords(lost: number, way: string, largestCrossed: number, where: string): string {
  return `${lost === 1 ? 'larger' : 'all larger'} than any packet that got ${way} (at most ${largestCrossed} bytes ${where}): an MTU on the way too small?`;
}

/** "  ↪ about ICMP 10.244.1.2 → 10.244.2.2 id 19575": the flows an ICMP error flow's packets were sent back about. */
function quotedFlowsLine(flow: Flow): string {
  return `  \u21aa about ${nameList(flow.quotedFlows.slice(0, QUOTED_FLOWS_SHOWN).map((f) => f.name), flow.quotedFlows.length)}`;
}

/** "a; b; c, and 4 more": the names shown out of `total`. */
function nameList(shown: readonly string[], total: number): string {
  return total > shown.length ? `${shown.join('; ')}, and ${total - shown.length} more` : shown.join('; ');
}

const QUOTED_FLOWS_SHOWN = 3;

/** "  ↩ 1 packet drew an ICMP error: 10.244.1.1 sent ICMP ...": why its packets went no farther, as a router said. */
function icmpErrorsLine(flow: Flow): string {
  if (flow.icmpError === null) return '';
  const drew = flow.icmpErrors === 1 ? '1 packet drew an ICMP error' : `${flow.icmpErrors} packets drew ICMP errors, the latest`;
  return `  \u21a9 ${drew}: ${icmpErrorText(flow.icmpError)}`;
}

/** The same ladder as a cli-table3 table (`--format table`). */
export function flowTable(flow: Flow, labels: readonly string[], losses: readonly LossGroup[]): string {
  const table = new Table({ head: ['point', 'packets', 'latency median', 'max', 'changes', 'lost after'] });
  const hops = new Map(flow.hops.map((h) => [h.to, h]));
  flow.path.forEach((point, at) => {
    const hop = hops.get(point);
    const lost = losses.filter((g) => g.after === point).reduce((n, g) => n + g.count, 0);
    table.push([
      labels[point]!,
      at === 0 ? '' : String(hop?.packets ?? 0),
      hop === undefined ? '' : formatDuration(hop.latency.median),
      hop === undefined ? '' : formatDuration(hop.latency.max),
      at === 0 ? 'first seen' : hop === undefined ? '' : describeChanges(hop.changes, hop.varying),
      lost === 0 ? '' : String(lost),
    ]);
  });
  const notes = losses.filter(tooBig).map((g) => `  \u2716 ${g.count} lost after ${labels[g.after]}: ${tooBigText(g, labels)}`);
  const errors = icmpErrorsLine(flow);
  if (errors !== '') notes.push(errors);
  return [`${flowHeader(flow)}\n${table.toString()}`, ...notes].join('\n');
}

/** `--packets`: one line per packet, its sightings with the time between them. */
export function packetText(packet: TracedPacket, labels: readonly string[], baseNs: bigint): string {
  const first = packet.sightings[0]!.sighting;
  const steps = packet.sightings.map(({ sighting, deltaNs }) =>
    deltaNs === null ? `${labels[sighting.point]} #${sighting.frame}` : `${formatOffset(deltaNs)} ${labels[sighting.point]} #${sighting.frame}`,
  );
  let fate = '';
  if (packet.lost !== null) fate = `  LOST before ${labels[packet.lost.before]}`;
  else if (packet.fragmented !== null) fate = `  fragmented before ${labels[packet.fragmented.before]}`;
  else if (packet.resegmented !== null) fate = `  resegmented before ${labels[packet.resegmented.before]} (GSO/GRO)`;
  else if (packet.expired !== null) fate = `  expired before ${labels[packet.expired.before]} (TTL ran out)`;
  if (packet.missed.length > 0) fate += `  (not captured at ${packet.missed.map((p) => labels[p]).join(', ')})`;
  if (packet.icmpError !== null) fate += `  \u21a9 ${icmpErrorText(packet.icmpError)}`;
  const time = clockTime(baseNs + BigInt(first.timeNs));
  return `${time} ${packet.flow.name} ${packetName(first)}: ${steps.join(' \u2192 ')}${fate}`;
}
