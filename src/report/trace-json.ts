import { type Change, ChangePatterns, PATTERNS_KEPT } from '../correlate/changes.js';
import type { ClockOffset } from '../correlate/clock.js';
import { packetNameAt } from '../correlate/describe.js';
import type { DecidedJourney, Flow } from '../correlate/flows.js';
import type { LossLog } from '../correlate/losses.js';
import { NONE } from '../correlate/sighting.js';
import type { TraceResult } from '../correlate/trace.js';
import { formatMac } from '../dissect/index.js';
import type { LineOutput } from './output.js';

/**
 * `vxdump trace --format json`: one document, schema "vxdump-trace/1" (README "Trace JSON").
 * Packets are written as they are decided, so the document streams in constant memory; the
 * parts known only at the end (points with their counts, flows, losses) follow them.
 */
export class TraceJsonWriter {
  private packetsWritten = 0;
  private readonly patterns = new ChangePatterns();
  /** JSON text of each way of changing (without the length, added per packet), made once. */
  private readonly patternJson = new Map<number, string>();
  /** JSON text of MACs seen lately: a capture has few, and formatting one costs more than a lookup. */
  private readonly macJson = new Map<number, string>();
  private labelText: string[] = [];
  /** baseNs() split into seconds and nanoseconds, for the timestamps. */
  private base = -1n;
  private baseSeconds = 0;
  private baseFraction = 0;

  constructor(
    private readonly out: LineOutput,
    private readonly labels: () => readonly string[],
    private readonly baseNs: () => bigint,
  ) {}

  start(): void {
    this.out.line('{"schema":"vxdump-trace/1","packets":[');
  }

  /**
   * One packet, built as text straight from the sighting store: no record per sighting, each
   * MAC and each way of changing formatted once.
   */
  decided({ journey, flow, store, lost, fragmented, missed }: DecidedJourney): void {
    const labels = this.labelJson();
    const sightings = journey.sightings;
    let text = `{"id":${journey.id},"flow":${flow.id},"name":${JSON.stringify(packetNameAt(store, sightings[0]!))},"sightings":[`;
    for (let i = 0; i < sightings.length; i++) {
      const slot = sightings[i]!;
      const previous = i === 0 ? NONE : sightings[i - 1]!;
      const vni = store.vni[slot]!;
      const ttl = store.ttl[slot]!;
      text +=
        `${i === 0 ? '' : ','}{"point":${labels[store.point[slot]!]},"frame":${store.frame[slot]},` +
        `"timestampNs":"${this.timestamp(store.timeNs[slot]!)}","deltaNs":${previous === NONE ? 'null' : store.correctedNs[slot]! - store.correctedNs[previous]!},` +
        `"length":${store.length[slot]},"vni":${vni === NONE ? 'null' : vni},"ttl":${ttl === NONE ? 'null' : ttl},` +
        `"ethSrc":${this.mac(store.ethSrc[slot]!)},"ethDst":${this.mac(store.ethDst[slot]!)},"changes":${previous === NONE ? '[]' : this.changes(store, previous, slot)}}`;
    }
    const hop = (h: { after: number; before: number } | null) => (h === null ? 'null' : `{"after":${labels[h.after]},"before":${labels[h.before]}}`);
    text += `],"lost":${hop(lost)},"fragmented":${hop(fragmented)},"missed":[${missed.map((p) => labels[p]).join(',')}]}`;
    this.out.line(this.packetsWritten === 0 ? text : `,${text}`);
    this.packetsWritten += 1;
  }

  /** The point labels as JSON strings, made once (the labels are known once reading starts). */
  private labelJson(): string[] {
    const labels = this.labels();
    if (this.labelText.length !== labels.length) this.labelText = labels.map((label) => JSON.stringify(label));
    return this.labelText;
  }

  /** The capture's own time of a sighting, as the decimal string of ns since 1970. */
  private timestamp(timeNs: number): string {
    const base = this.baseNs();
    if (base !== this.base) {
      // Split once: bigint division for every sighting costs more than the rest of its text.
      this.base = base;
      this.baseSeconds = Number(base / 1_000_000_000n);
      this.baseFraction = Number(base % 1_000_000_000n);
    }
    const baseSeconds = this.baseSeconds;
    const total = this.baseFraction + timeNs;
    const seconds = baseSeconds + Math.floor(total / 1e9);
    if (seconds <= 0) return (base + BigInt(timeNs)).toString();
    return `${seconds}${String(total - Math.floor(total / 1e9) * 1e9).padStart(9, '0')}`;
  }

  private mac(value: number): string {
    let text = this.macJson.get(value);
    if (text === undefined) {
      if (this.macJson.size > 65536) this.macJson.clear();
      text = value === NONE ? 'null' : `"${formatMac(value)}"`;
      this.macJson.set(value, text);
    }
    return text;
  }

  private changes(store: Parameters<ChangePatterns['of']>[0], before: number, after: number): string {
    const pattern = this.patterns.of(store, before, after);
    let text = this.patternJson.get(pattern.id);
    if (text === undefined) {
      if (this.patternJson.size >= PATTERNS_KEPT) this.patternJson.clear();
      // Without the closing bracket: the length change, if any, follows.
      text = JSON.stringify(pattern.changes).slice(0, -1);
      this.patternJson.set(pattern.id, text);
    }
    if (pattern.lengthDelta === 0) return `${text}]`;
    const length = `{"field":"frame.len","from":${store.length[before]},"to":${store.length[after]}}]`;
    return pattern.changes.length === 0 ? `${text}${length}` : `${text},${length}`;
  }

  /**
   * The members after the packets, written one item per line: a trace may have a hundred
   * thousand flows, and one JSON.stringify of them all would hold every flow twice over (as
   * objects and as one string) at the very end of the run.
   */
  end(result: TraceResult, losses: LossLog): void {
    const labels = result.points.map((p) => p.point.label);
    const points = result.points.map((p) => ({
      label: p.point.label,
      node: p.point.node,
      interface: p.point.iface,
      file: p.point.file,
      frames: p.frames,
      unidentified: p.unidentified,
    }));
    // Close the packets array, then the remaining members of the same object.
    this.out.line(`],"points":${JSON.stringify(points)},"order":${JSON.stringify(result.order.points.map((i) => labels[i]))},`);
    this.out.line(`"orderSource":${JSON.stringify(result.order.source)},"clock":${JSON.stringify(result.clock.map(clockJson))},`);
    this.array('directions', result.directions, (flow) => flowJson(flow, labels));
    this.array('flows', result.flows, (flow) => flowJson(flow, labels));
    this.array('losses', losses.all, (g) => ({ flow: g.flow.id, after: labels[g.after], before: labels[g.before], count: g.count, packets: g.packets }));
    this.out.line(`"totals":${JSON.stringify({ packets: result.packets, matched: result.matched, lost: losses.total })}}`);
  }

  /** `"name":[` item, item, ... `],` with each item on its own line. */
  private array<T>(name: string, items: readonly T[], json: (item: T) => unknown): void {
    this.out.line(`"${name}":[`);
    for (let i = 0; i < items.length; i++) this.out.line(`${i === 0 ? '' : ','}${JSON.stringify(json(items[i]!))}`);
    this.out.line('],');
  }
}

export function clockJson(c: ClockOffset): Record<string, unknown> {
  return {
    node: c.node,
    reference: c.reference,
    offsetNs: String(c.offsetNs),
    uncertaintyNs: c.uncertaintyNs === null || !Number.isFinite(c.uncertaintyNs) ? null : c.uncertaintyNs,
    method: c.method,
    via: c.via,
    samples: c.samples,
  };
}

export function flowJson(flow: Flow, labels: readonly string[]): Record<string, unknown> {
  return {
    id: flow.id,
    name: flow.name,
    vnis: [...flow.vnis].sort((a, b) => a - b),
    direction: flow.forward ? 'forward' : 'backward',
    path: flow.path.map((p) => labels[p]),
    packets: flow.packets,
    lost: flow.lost,
    hops: flow.hops.map((hop) => ({
      from: labels[hop.from],
      to: labels[hop.to],
      packets: hop.packets,
      latency: {
        medianNs: hop.latency.median,
        minNs: hop.latency.min,
        maxNs: hop.latency.max,
        exact: hop.latency.exact,
      },
      changes: hop.changes as Change[],
      varying: hop.varying,
    })),
  };
}
