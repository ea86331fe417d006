import type { CaptureWarning } from '../capture/errors.js';
import type { Frame } from '../capture/frame.js';
import type { CaptureReader } from '../capture/open.js';
import { type InterfaceStatistics, PcapngReader } from '../capture/pcapng.js';
import { type CapturePoint, interfaceKey } from './points.js';

/*
 * What a capture says of itself in pcapng Interface Statistics Blocks (dumpcap writes one per
 * interface when it stops): how many packets the capture dropped, and when it stopped. A capture
 * that dropped packets makes losses next to its point doubtful, and one that ran on after its last
 * frame was still capturing then, which a pcap's last frame cannot tell.
 */

/** The interfaces of a pcapng whose frames one capture point got, and their statistics. */
export class StreamInterfaces {
  private readonly pcapng: PcapngReader | undefined;
  /** Their interfaceKey()s. */
  private readonly keys = new Set<number>();
  private lastKey = -1;

  constructor(reader: CaptureReader) {
    this.pcapng = reader.details instanceof PcapngReader ? reader.details : undefined;
  }

  /** A frame the point got (a pcap has no statistics: nothing to note). */
  note(frame: Frame): void {
    const pcapng = this.pcapng;
    if (pcapng === undefined) return;
    const key = interfaceKey(pcapng.currentSection, frame.interfaceId);
    if (key === this.lastKey) return;
    this.keys.add(key);
    this.lastKey = key;
  }

  /**
   * Their statistics together, once the capture is read: the earliest start, the latest end, the
   * counters summed. Null when none of them has any (a pcap, a pcapng without the blocks).
   */
  statistics(): InterfaceStatistics | null {
    const pcapng = this.pcapng;
    if (pcapng === undefined) return null;
    const all = pcapng.interfaces.filter((i) => this.keys.has(interfaceKey(i.section, i.id)) && i.statistics !== undefined).map((i) => i.statistics!);
    if (all.length === 0) return null;
    const earliest = (values: (bigint | null)[]) => values.reduce<bigint | null>((a, b) => (b === null ? a : a === null || b < a ? b : a), null);
    const latest = (values: (bigint | null)[]) => values.reduce<bigint | null>((a, b) => (b === null ? a : a === null || b > a ? b : a), null);
    const sum = (values: (number | null)[]) => values.reduce<number | null>((a, b) => (b === null ? a : (a ?? 0) + b), null);
    return {
      takenNs: latest(all.map((s) => s.takenNs)),
      startNs: earliest(all.map((s) => s.startNs)),
      endNs: latest(all.map((s) => s.endNs)),
      received: sum(all.map((s) => s.received)),
      interfaceDrops: sum(all.map((s) => s.interfaceDrops)),
      filterAccepted: sum(all.map((s) => s.filterAccepted)),
      osDrops: sum(all.map((s) => s.osDrops)),
      delivered: sum(all.map((s) => s.delivered)),
    };
  }
}

/** Packets the capture itself lost: dropped by the interface or by the OS. Null when it does not say. */
export function captureDrops(statistics: InterfaceStatistics | null): number | null {
  if (statistics === null || (statistics.interfaceDrops === null && statistics.osDrops === null)) return null;
  return (statistics.interfaceDrops ?? 0) + (statistics.osDrops ?? 0);
}

/**
 * When the capture stopped by its statistics, in trace ns (since `baseNs`, on the capture's own
 * clock): null when they do not say. 'inconsistent' when they say it started after its first
 * frame or stopped before its last: the frames' times were changed after the capture (editcap
 * -t, anonymised samples: several of the peer corpus's), and the statistics' were not.
 */
export function statedEndNs(statistics: InterfaceStatistics | null, baseNs: bigint, firstFrameNs: number, lastFrameNs: number): number | null | 'inconsistent' {
  if (statistics === null || statistics.endNs === null) return null;
  const endNs = Number(statistics.endNs - baseNs);
  const startNs = statistics.startNs === null ? -Infinity : Number(statistics.startNs - baseNs);
  return startNs <= firstFrameNs && endNs >= lastFrameNs ? endNs : 'inconsistent';
}

/** The warning for a point whose statistics' times do not hold its frames (statedEndNs: 'inconsistent'). */
export function statisticsOutsideFrames(point: CapturePoint, statistics: InterfaceStatistics): CaptureWarning {
  return {
    file: point.file,
    location: {},
    message: `${point.label}: its capture statistics say it ran from ${dateOf(statistics.startNs)} to ${dateOf(statistics.endNs)}, which does not hold its frames (their times changed after the capture?): its end is taken from its last frame`,
  };
}

function dateOf(ns: bigint | null): string {
  if (ns === null) return 'an unstated time';
  const date = new Date(Number(ns / 1_000_000n));
  // Statistics may state times no calendar holds (the corpus's SyncE_bidirectional: 300,000 years).
  return Number.isNaN(date.getTime()) ? `${ns} ns since 1970` : date.toISOString();
}
