import { type ChangeCount, type DirectionStats, LISTED, type PacketDiff } from '../correlate/diff.js';
import type { TraceResult } from '../correlate/trace.js';
import { formatDuration, formatOffset } from './duration.js';
import { icmpErrorText } from '../correlate/icmp-errors.js';
import { clockJson, icmpErrorJson, statisticsJson } from './trace-json-objects.js';
import { capturesDroppedText, clockText, droppedText, duplicatesText, tooBigWords, unansweredText } from './trace-text.js';
import { counted } from './plural.js';

/** `vxdump diff` as text and as JSON (schema "vxdump-diff/1", README "Diff JSON"). */

const SHOWN = 20;

function changeLines(changes: readonly ChangeCount[]): string[] {
  if (changes.length === 0) return ['    none: the packets are identical'];
  return [...changes]
    .sort((x, y) => y.packets - x.packets || (x.key < y.key ? -1 : 1))
    .map((c) => `    ${c.key}: ${counted(c.packets, 'packet')}`);
}

function direction(title: string, stats: DirectionStats): string[] {
  if (stats.matched === 0) return [];
  const l = stats.latency;
  return [
    `${title}: ${stats.matched} matched, latency ${formatOffset(l.median)} median (min ${formatDuration(l.min)}, max ${formatDuration(l.max)})`,
    ...changeLines(stats.changes),
  ];
}

export function diffText(result: TraceResult, diff: PacketDiff, a: string, b: string): string {
  const parts: string[] = [];
  const [pointA, pointB] = [a, b].map((label) => result.points.findIndex((s) => s.point.label === label)) as [number, number];
  const frames = (index: number) => {
    const p = result.points[index]!;
    return `${counted(p.frames, 'frame')}${p.duplicates > 0 ? `, ${duplicatesText(p.duplicates)}` : ''}${droppedText(p)}`;
  };
  parts.push(`A ${a}: ${frames(pointA)}\nB ${b}: ${frames(pointB)}`);
  const clock = clockText(result.clock);
  if (clock !== '') parts.push(clock);
  const matched = diff.forward.matched + diff.backward.matched;
  parts.push(
    `${matched} matched (${diff.forward.matched} A\u2192B, ${diff.backward.matched} B\u2192A), ` +
      `${diff.onlyA} only in A (${diff.lost} of them lost: their flow reaches B${diff.lostTooBig ? `, ${tooBigText(diff)}` : ''}` +
      `${diff.resegmented === 0 ? '' : `; ${resegmentedText(diff.resegmented, 'B')}`}` +
      `${diff.expired === 0 ? '' : `; ${diff.expired} expired: their TTL ran out at the router before B`}), ` +
      `${diff.onlyB} only in B${diff.resegmentedB === 0 ? '' : ` (${resegmentedText(diff.resegmentedB, 'A')})`}`,
  );
  const unanswered = unansweredText(result);
  if (unanswered !== '') parts.push(unanswered);
  const dropped = diff.lost === 0 ? '' : capturesDroppedText(result, [pointA, pointB]);
  if (dropped !== '') parts.push(dropped);
  const forward = direction(`A\u2192B (${a} \u2192 ${b})`, diff.forward);
  if (forward.length > 0) parts.push(forward.join('\n'));
  const backward = direction(`B\u2192A (${b} \u2192 ${a})`, diff.backward);
  if (backward.length > 0) parts.push(backward.join('\n'));
  const odd = diff.odd;
  if (odd.length > 0) {
    parts.push(
      [`Odd ones (changes unlike the rest of their flow): ${odd.length}`]
        .concat(odd.slice(0, SHOWN).map((p) => `    ${p.flowName} ${p.name}: ${p.changes.join('; ') || 'no change'} (usually ${p.usual.join('; ') || 'no change'})`))
        .join('\n'),
    );
  }
  if (diff.onlyA > 0) {
    const fate = (p: (typeof diff.onlyAListed)[number]) => (p.lost ? '  LOST' : p.resegmented ? '  resegmented' : p.expired ? '  expired (TTL ran out)' : '');
    const why = (p: (typeof diff.onlyAListed)[number]) => (p.icmpError === null ? '' : `  \u21a9 ${icmpErrorText(p.icmpError)}`);
    const lines = diff.onlyAListed.slice(0, SHOWN).map((p) => `    A #${p.frame} ${p.flowName} ${p.name}${fate(p)}${why(p)}`);
    parts.push([`Only in A (lost or filtered): ${diff.onlyA}`, ...lines, ...more(diff.onlyA, lines.length)].join('\n'));
  }
  if (diff.onlyB > 0) {
    const lines = diff.onlyBListed.slice(0, SHOWN).map((p) => `    B #${p.frame} ${p.flowName} ${p.name}${p.resegmented ? '  resegmented' : ''}`);
    parts.push([`Only in B (new: generated or from elsewhere): ${diff.onlyB}`, ...lines, ...more(diff.onlyB, lines.length)].join('\n'));
  }
  return parts.join('\n\n');
}

/** "all larger than any packet that got from A to B (...)": see PacketDiff.lostTooBig. */
function tooBigText(diff: PacketDiff): string {
  return tooBigWords(diff.lost, 'from A to B', diff.forward.largestLength, 'at A');
}

/** "5 resegmented: ...": TCP segments whose bytes the other point saw in other segments (cut or joined). */
function resegmentedText(count: number, other: 'A' | 'B'): string {
  return `${count} resegmented: their bytes were at ${other} in other segments (GSO/GRO)`;
}

const more = (total: number, shown: number): string[] => (total > shown ? [`    ... and ${total - shown} more (--format json lists up to 1000)`] : []);

function directionJson(stats: DirectionStats): Record<string, unknown> {
  const l = stats.latency;
  return {
    matched: stats.matched,
    largestLength: stats.matched === 0 ? null : stats.largestLength,
    latency: stats.matched === 0 ? null : { medianNs: l.median, minNs: l.min, maxNs: l.max, exact: l.exact },
    changes: stats.changes.sort((x, y) => y.packets - x.packets || (x.key < y.key ? -1 : 1)),
  };
}

export function diffJson(result: TraceResult, diff: PacketDiff, a: string, b: string): Record<string, unknown> {
  const point = (label: string) => {
    const p = result.points.find((s) => s.point.label === label)!;
    return { label, file: p.point.file, frames: p.frames, duplicates: p.duplicates, statistics: statisticsJson(p.statistics) };
  };
  const labels = result.points.map((p) => p.point.label);
  return {
    schema: 'vxdump-diff/1',
    a: point(a),
    b: point(b),
    clock: result.clock.map(clockJson),
    forward: directionJson(diff.forward),
    backward: directionJson(diff.backward),
    onlyA: {
      count: diff.onlyA,
      lost: diff.lost,
      resegmented: diff.resegmented,
      expired: diff.expired,
      smallestLostLength: diff.lost === 0 ? null : diff.smallestLost,
      packets: diff.onlyAListed.map((p) => ({ ...p, icmpError: icmpErrorJson(p.icmpError, labels) })),
    },
    onlyB: { count: diff.onlyB, resegmented: diff.resegmentedB, packets: diff.onlyBListed },
    odd: diff.odd,
    unanswered: result.flows
      .filter((f) => f.unanswered)
      .slice(0, LISTED)
      .map((f) => ({ flow: f.name, lastSeen: labels[f.path[f.path.length - 1]!], icmpError: icmpErrorJson(f.icmpError, labels) })),
    askedAtCaptureEnd: result.flows
      .filter((f) => f.askedAtCaptureEnd)
      .slice(0, LISTED)
      .map((f) => ({ flow: f.name, lastSeen: labels[f.path[f.path.length - 1]!] })),
  };
}
