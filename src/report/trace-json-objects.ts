import type { InterfaceStatistics } from '../capture/pcapng.js';
import type { Change } from '../correlate/changes.js';
import type { ClockOffset } from '../correlate/clock.js';
import type { Flow } from '../correlate/flows.js';
import { type IcmpErrorNote, icmpErrorName } from '../correlate/icmp-errors.js';
import { formatIpv4 } from '../dissect/index.js';

/**
 * The JSON shapes of trace's and diff's records other than packets, as objects for
 * JSON.stringify (README "Trace JSON"). flow-bytes.ts writes flows the same byte for byte.
 */

/** An ICMP error sent back about a packet (packets[].icmpError, flows[].icmpError, losses[].packets[].icmpError), or null for none. */
export function icmpErrorJson(note: IcmpErrorNote | null, labels: readonly string[]): Record<string, unknown> | null {
  if (note === null) return null;
  return {
    packet: note.packet,
    type: note.type,
    code: note.code,
    name: icmpErrorName(note),
    from: formatIpv4(note.from),
    point: labels[note.point],
    frame: note.frame,
    mtu: note.mtu,
  };
}

/** A point's pcapng statistics (points[].statistics, diff's a.statistics and b.statistics, analyze's summary.captureStatistics): times as ns strings, counts; null if none. */
export function statisticsJson(s: InterfaceStatistics | null): Record<string, unknown> | null {
  if (s === null) return null;
  const time = (ns: bigint | null) => (ns === null ? null : String(ns));
  return {
    startNs: time(s.startNs),
    endNs: time(s.endNs),
    takenNs: time(s.takenNs),
    received: s.received,
    interfaceDrops: s.interfaceDrops,
    osDrops: s.osDrops,
    filterAccepted: s.filterAccepted,
    delivered: s.delivered,
  };
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
    drift:
      c.drift === undefined
        ? null
        : { corrections: c.drift.corrections, endOffsetNs: String(c.drift.endOffsetNs), spanNs: c.drift.spanNs, ppm: Math.round(c.drift.nsPerSecond) / 1000 },
  };
}

/** A flow's JSON; `directionKnown` false: no packet of it has shown which way it goes (see Flow.directionKnown). */
export function flowJson(flow: Flow, labels: readonly string[], directionKnown = flow.directionKnown): Record<string, unknown> {
  return {
    id: flow.id,
    name: flow.name,
    vnis: [...flow.vnis].sort((a, b) => a - b),
    direction: flow.forward ? 'forward' : 'backward',
    directionKnown,
    path: flow.path.map((p) => labels[p]),
    reverse: flow.reverse?.id ?? null,
    unanswered: flow.unanswered,
    askedAtCaptureEnd: flow.askedAtCaptureEnd,
    packets: flow.packets,
    lost: flow.lost,
    resegmented: flow.resegmented,
    expired: flow.expired,
    icmpErrors: flow.icmpErrors,
    icmpError: icmpErrorJson(flow.icmpError, labels),
    quotedFlows: flow.quotedFlows.map((f) => f.id),
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
