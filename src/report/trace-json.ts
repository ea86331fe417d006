import type { Change } from '../correlate/changes.js';
import type { ClockOffset } from '../correlate/clock.js';
import { packetName } from '../correlate/describe.js';
import type { Flow, TracedPacket } from '../correlate/flows.js';
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

  constructor(
    private readonly out: LineOutput,
    private readonly labels: () => readonly string[],
    private readonly baseNs: () => bigint,
  ) {}

  start(): void {
    this.out.line('{"schema":"vxdump-trace/1","packets":[');
  }

  packet(packet: TracedPacket): void {
    const labels = this.labels();
    const base = this.baseNs();
    const sightings = packet.sightings.map(({ sighting: s, deltaNs, changes }) => ({
      point: labels[s.point],
      frame: s.frame,
      timestampNs: (base + BigInt(s.timeNs)).toString(),
      deltaNs,
      length: s.length,
      vni: s.vni === NONE ? null : s.vni,
      ttl: s.ttl === NONE ? null : s.ttl,
      ethSrc: formatMac(s.ethSrc),
      ethDst: formatMac(s.ethDst),
      changes,
    }));
    const hop = (h: { after: number; before: number } | null) => (h === null ? null : { after: labels[h.after], before: labels[h.before] });
    const json = JSON.stringify({
      id: packet.id,
      flow: packet.flow.id,
      name: packetName(packet.sightings[0]!.sighting),
      sightings,
      lost: hop(packet.lost),
      fragmented: hop(packet.fragmented),
      missed: packet.missed.map((p) => labels[p]),
    });
    this.out.line(this.packetsWritten === 0 ? json : `,${json}`);
    this.packetsWritten += 1;
  }

  end(result: TraceResult, losses: LossLog): void {
    const labels = result.points.map((p) => p.point.label);
    const rest = {
      points: result.points.map((p) => ({
        label: p.point.label,
        node: p.point.node,
        interface: p.point.iface,
        file: p.point.file,
        frames: p.frames,
        unidentified: p.unidentified,
      })),
      order: result.order.points.map((i) => labels[i]),
      orderSource: result.order.source,
      clock: result.clock.map(clockJson),
      directions: result.directions.map((flow) => flowJson(flow, labels)),
      flows: result.flows.map((flow) => flowJson(flow, labels)),
      losses: losses.all.map((g) => ({
        flow: g.flow.id,
        after: labels[g.after],
        before: labels[g.before],
        count: g.count,
        packets: g.packets,
      })),
      totals: { packets: result.packets, matched: result.matched, lost: losses.total },
    };
    // Close the packets array, then the remaining members of the same object.
    this.out.line(`],${JSON.stringify(rest).slice(1)}`);
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
