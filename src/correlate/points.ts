import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import type { Frame } from '../capture/frame.js';
import type { CaptureReader } from '../capture/open.js';
import { LinkType } from '../capture/linktypes.js';
import { type PcapngInterface, PcapngReader } from '../capture/pcapng.js';
import { TraceError } from './trace-error.js';

/**
 * Capture points: where along the path a packet was seen ("node1/vxlan11").
 *
 * A point is named node/interface. The node is also the clock domain: every point of one node
 * shares its clock, and two nodes' clocks differ (see clock.ts). Names come from the file name,
 * as the lab and most people name their captures (`node1-vxlan11.pcap` → node1/vxlan11,
 * `ns1-veth1a.pcap` → ns1/veth1a), or from an explicit `node1/eth0=/captures/a.pcap`. A pcapng
 * file that recorded several interfaces gives one point per interface (node1/eth0, node1/br0)
 * named after each interface's if_name. So does a capture of `tcpdump -i any` (Linux cooked
 * capture v2), whose frames carry the index of the interface they were seen on, not its name:
 * node1/if2, node1/if3 (`ip -o link` tells the names).
 */
export interface CapturePoint {
  /** Position in the list of points (the order the user gave them, interfaces in file order). */
  readonly index: number;
  /** "node1/vxlan11" */
  readonly label: string;
  /** "node1": the clock domain. */
  readonly node: string;
  /** "vxlan11" */
  readonly iface: string;
  readonly file: string;
  /** The pcapng interface (section, id) this point stands for; undefined: the whole file. */
  readonly pcapngInterface?: { readonly section: number; readonly id: number };
}

/** A point argument split into its label (if given) and the file. */
export interface PointArgument {
  readonly file: string;
  readonly label?: string;
}

/** Extensions dropped from a file name before it becomes a label. */
const CAPTURE_EXTENSION = /\.(pcapng|pcap|cap|ntar|dmp)$/i;

/** `node1/eth0=/captures/a.pcap` or just a file name. */
export function parsePointArgument(argument: string): PointArgument {
  const equals = argument.indexOf('=');
  // A file name may itself contain '=': an existing file wins.
  if (equals > 0 && !existsSync(argument)) {
    return { label: argument.slice(0, equals), file: argument.slice(equals + 1) };
  }
  return { file: argument };
}

/** node and interface from a label ("node1/eth0") or a capture file name ("node1-eth0.pcap"). */
export function splitLabel(text: string): { node: string; iface: string } {
  const slash = text.indexOf('/');
  if (slash > 0) return { node: text.slice(0, slash), iface: text.slice(slash + 1) };
  const dash = text.search(/[-_]/);
  if (dash > 0) return { node: text.slice(0, dash), iface: text.slice(dash + 1) };
  return { node: text, iface: text };
}

/** The node/interface a file name stands for: "node1-flannel.1.pcap" → node1/flannel.1. */
export function labelFromFileName(file: string): { node: string; iface: string } {
  return splitLabel(basename(file).replace(CAPTURE_EXTENSION, ''));
}

/** What streamPointOf says of a frame whose interface has no point yet (first met after the sample). */
export const LATE = 'late';

/**
 * The interface a single-interface pcapng's point stands for, as its first frame named it. A
 * pcapng may describe another interface at any block, so every frame is held to it (onInterface).
 */
export interface WholeInterface {
  readonly section: number;
  readonly id: number;
  readonly name: string | undefined;
  readonly linkType: number;
}

/**
 * Whether a frame of a pcapng registered with one interface is on that interface: the same one,
 * or one a later section describes by the same name and link type (captures of one interface
 * concatenated, a section each: interface ids restart in every section).
 */
export function onInterface(expected: WholeInterface, section: number, frame: Frame): boolean {
  if (section === expected.section) return frame.interfaceId === expected.id;
  return frame.interfaceName === expected.name && frame.linkType === expected.linkType;
}

/** The pcapng section a reader is in (0 for other formats): with the interface id, it names an interface. */
export function sectionOf(reader: CaptureReader): number {
  return reader.details instanceof PcapngReader ? reader.details.currentSection : 0;
}

/** A pcapng interface as one number: ids restart in every section. */
export function interfaceKey(section: number, id: number): number {
  return section * 65536 + id;
}

/**
 * The interface a frame was seen on, as a number and a name for warnings: for `tcpdump -i any`
 * its index ("interface index 5"), for a pcapng its section and id ("interface vxlan11").
 */
export function frameInterface(cooked: boolean, reader: CaptureReader, frame: Frame): { key: number; name: string } {
  if (cooked) {
    const ifindex = cookedInterfaceIndex(frame);
    return { key: ifindex, name: `interface index ${ifindex}` };
  }
  const section = sectionOf(reader);
  return { key: interfaceKey(section, frame.interfaceId), name: `interface ${interfaceName(section, frame.interfaceId, frame.interfaceName)}` };
}

interface CaptureEntry {
  readonly argument: PointArgument;
  /** The node its points belong to (labelOf). */
  readonly node: string;
  /** The point of the whole file, for a capture of one interface. */
  whole?: CapturePoint;
  /** For a pcapng with one interface so far: that interface, which every frame is held to. */
  wholeInterface?: WholeInterface;
  /** Otherwise, a point per (section, interface id), or for a `tcpdump -i any` capture (byIndex) per interface index. */
  readonly byInterface: Map<number, CapturePoint>;
  byIndex: boolean;
  /** The one interface of a multi-interface file the user asked for (`node1/eth0=multi.pcapng`). */
  only?: string;
}

/**
 * Finds which point each frame of one capture belongs to. Made per capture file once its
 * interfaces are known; for a multi-interface pcapng, new interfaces met later become points too.
 */
export class PointRegistry {
  readonly points: CapturePoint[] = [];
  private readonly byLabel = new Map<string, CapturePoint>();
  private readonly perCapture: CaptureEntry[] = [];

  constructor(
    /** Per node, interface index → name, for `tcpdump -i any` captures (--links). */
    private readonly interfaceNames: ReadonlyMap<string, ReadonlyMap<number, string>> = new Map(),
  ) {}

  /**
   * Registers the points of one capture. `interfaces` are the pcapng interfaces its sample
   * describes (none for classic pcap); more than one means a point per interface. A capture whose
   * `first` frame is Linux cooked capture v2 has a point per interface index, made as frames show
   * them. Of a file with several interfaces, a label that names one (`node1/if2=any.pcap`) keeps
   * that one.
   */
  addCapture(argument: PointArgument, capture: CaptureReader, first: Frame | null, interfaces: readonly PcapngInterface[]): void {
    const { node, iface } = labelOf(argument);
    const entry: CaptureEntry = { byInterface: new Map<number, CapturePoint>(), byIndex: false, argument, node };
    this.perCapture.push(entry);
    const several = interfaces.length > 1 || first?.linkType === LinkType.LINUX_SLL2;
    if (!several) {
      entry.whole = this.add(node, iface, argument.file);
      if (first !== null && capture.details instanceof PcapngReader) {
        const { interfaceId: id, interfaceName: name, linkType } = first;
        entry.wholeInterface = { section: sectionOf(capture), id, name, linkType };
      }
      return;
    }
    // A label that names an interface, not only a node (from a file name, node and interface are the file's own).
    if (argument.label !== undefined && iface !== node) entry.only = iface;
    if (interfaces.length <= 1) {
      entry.byIndex = true;
      return;
    }
    for (const { section, id, name } of interfaces) {
      if (entry.only === undefined || interfaceName(section, id, name) === entry.only) this.addInterface(entry, section, id, name);
    }
    if (entry.only !== undefined && entry.byInterface.size === 0) {
      const names = interfaces.map(({ section, id, name }) => interfaceName(section, id, name));
      throw new TraceError(`${argument.file} has no interface ${entry.only} (it has ${names.join(', ')})`);
    }
  }

  /** The point a frame of capture number `captureIndex` was seen at, made if new; undefined for an interface not asked for. */
  pointOf(captureIndex: number, capture: CaptureReader, frame: Frame): CapturePoint | undefined {
    const found = this.streamPointOf(captureIndex, capture, frame);
    if (found !== LATE) return found;
    const entry = this.perCapture[captureIndex]!;
    if (entry.byIndex) return this.addIndexed(entry, cookedInterfaceIndex(frame));
    // Registered with the interfaces the whole sample describes, a file of one point meets no other in it.
    if (entry.whole !== undefined) throw new TraceError(`${entry.argument.file}: frame ${frame.index} is of an interface not registered (a bug in vxdump)`);
    return this.addInterface(entry, sectionOf(capture), frame.interfaceId, frame.interfaceName);
  }

  /**
   * pointOf without making points: LATE for a frame of an interface first met now (after the
   * sample, while streaming).
   */
  streamPointOf(captureIndex: number, capture: CaptureReader, frame: Frame): CapturePoint | undefined | typeof LATE {
    const entry = this.perCapture[captureIndex]!;
    if (entry.whole !== undefined) {
      const expected = entry.wholeInterface;
      return expected === undefined || onInterface(expected, sectionOf(capture), frame) ? entry.whole : LATE;
    }
    if (entry.byIndex) {
      const ifindex = cookedInterfaceIndex(frame);
      if (entry.only !== undefined && this.indexedName(entry, ifindex) !== entry.only) return undefined;
      return entry.byInterface.get(ifindex) ?? LATE;
    }
    const known = entry.byInterface.get(interfaceKey(sectionOf(capture), frame.interfaceId));
    if (known !== undefined || entry.only !== undefined) return known;
    return LATE;
  }

  /** The interface a file's label asked for, if it did (see addCapture). */
  onlyOf(captureIndex: number): string | undefined {
    return this.perCapture[captureIndex]!.only;
  }

  /** The points of capture number `captureIndex`: one, or one per pcapng interface or interface index. */
  pointsOf(captureIndex: number): CapturePoint[] {
    const entry = this.perCapture[captureIndex]!;
    return entry.whole !== undefined ? [entry.whole] : [...entry.byInterface.values()];
  }

  /** Whether the capture's frames go to points by the interface they were seen on (not all to one). */
  splitsByInterface(captureIndex: number): boolean {
    return this.perCapture[captureIndex]!.whole === undefined;
  }

  /** Whether the capture is a `tcpdump -i any` one, split by interface index. */
  splitsByIndex(captureIndex: number): boolean {
    return this.perCapture[captureIndex]!.byIndex;
  }

  /** For a pcapng of one point: the interface every frame is held to. */
  wholeInterfaceOf(captureIndex: number): WholeInterface | undefined {
    return this.perCapture[captureIndex]!.wholeInterface;
  }

  get(label: string): CapturePoint | undefined {
    return this.byLabel.get(label);
  }

  private addInterface(entry: CaptureEntry, section: number, id: number, name: string | undefined): CapturePoint {
    const point = this.add(entry.node, interfaceName(section, id, name), entry.argument.file, { section, id });
    entry.byInterface.set(interfaceKey(section, id), point);
    return point;
  }

  private addIndexed(entry: CaptureEntry, ifindex: number): CapturePoint {
    const point = this.add(entry.node, this.indexedName(entry, ifindex), entry.argument.file);
    entry.byInterface.set(ifindex, point);
    return point;
  }

  /** node/iface, or node1/eth0#2 for a second capture of one interface (say µs and ns copies). */
  private freeLabel(node: string, iface: string): string {
    // A name without a node part ("cut.pcap") is its own label, not "cut/cut".
    let label = iface === node ? node : `${node}/${iface}`;
    for (let n = 2; this.byLabel.has(label); n++) label = `${node}/${iface}#${n}`;
    return label;
  }

  /** The name of interface `ifindex` of a `tcpdump -i any` capture: from --links, or `if` and the index. */
  private indexedName(entry: CaptureEntry, ifindex: number): string {
    return this.interfaceNames.get(entry.node)?.get(ifindex) ?? interfaceName(0, ifindex, undefined);
  }

  private add(node: string, iface: string, file: string, pcapngInterface?: { section: number; id: number }): CapturePoint {
    const point: CapturePoint = { index: this.points.length, label: this.freeLabel(node, iface), node, iface, file, pcapngInterface };
    this.points.push(point);
    this.byLabel.set(point.label, point);
    return point;
  }
}

/** node and interface of a point argument: from its label, or else from its file name. */
function labelOf(argument: PointArgument): { node: string; iface: string } {
  return argument.label !== undefined ? splitLabel(argument.label) : labelFromFileName(argument.file);
}

/**
 * A point's interface name: the pcapng if_name, or else `if` and the interface id (a pcapng
 * interface of a later section: `s1if0`), or for `tcpdump -i any` the interface index.
 */
export function interfaceName(section: number, id: number, name: string | undefined): string {
  return name ?? (section === 0 ? `if${id}` : `s${section}if${id}`);
}

/**
 * The interface index in a Linux cooked capture v2 header (bytes 4-7, big-endian); 0, which no
 * Linux interface has, for a frame too short to hold it.
 */
export function cookedInterfaceIndex(frame: Frame): number {
  const b = frame.bytes;
  return b.length < 8 ? 0 : ((b[4]! << 24) | (b[5]! << 16) | (b[6]! << 8) | b[7]!) >>> 0;
}
