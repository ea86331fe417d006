import type Table from 'cli-table3';
import type { Packet } from '../dissect/index.js';
import { writePacketJson } from '../dissect/json.js';
import { packetLine, pointLabel } from './one-line.js';
import type { LineOutput } from './output.js';
import { type SummaryJson, summaryToText } from './summary.js';
import { cliTable3 } from './text-table.js';

/** Prints packets as they are decoded, and the summary at the end. */
export interface PacketPrinter {
  packet(packet: Packet, file: string): void;
  end(summary: SummaryJson): void;
}

export type PacketFormat = 'text' | 'table' | 'ndjson' | 'json';

export interface CaptureFileInfo {
  name: string;
  format: string;
}

export function printerFor(format: PacketFormat, out: LineOutput, files: CaptureFileInfo[], verbose: boolean): PacketPrinter {
  switch (format) {
    case 'text':
      return textPrinter(out, verbose);
    case 'table':
      return new TablePrinter(out);
    case 'ndjson':
      return {
        packet: (packet, file) => {
          writePacketJson(out, packet, file);
          out.endLine();
        },
        end: (summary) => out.line(JSON.stringify(summary)),
      };
    case 'json':
      return jsonPrinter(out, files);
  }
}

/** pointLabel, remembered per file and interface: it is the same for every packet of a point. */
function cachedPointLabels(): (file: string, interfaceName: string | undefined) => string {
  const labels = new Map<string, string>();
  return (file, interfaceName) => {
    const key = interfaceName === undefined ? file : `${file}\0${interfaceName}`;
    let label = labels.get(key);
    if (label === undefined) {
      label = pointLabel(file, interfaceName);
      labels.set(key, label);
    }
    return label;
  };
}

function textPrinter(out: LineOutput, verbose: boolean): PacketPrinter {
  const labelOf = cachedPointLabels();
  return {
    packet(packet, file) {
      out.line(packetLine(packet, labelOf(file, packet.frame.interfaceName)));
      if (!verbose) return;
      for (const layer of packet.layers) {
        const fields = Object.entries(layer.fields)
          .map(([name, value]) => `${name}=${Array.isArray(value) ? value.join(',') : String(value)}`)
          .join(' ');
        const depth = layer.depth > 0 ? ` (inner ${layer.depth})` : '';
        out.line(`    ${layer.quoted ? 'quoted ' : ''}${layer.protocol}${depth} @${layer.offset}+${layer.length}: ${fields}`);
      }
      if (packet.error !== null) out.line(`    error: ${packet.error.message}`);
    },
    end: (summary) => out.line(`\n${summaryToText(summary)}`),
  };
}

/**
 * One JSON document, streamed: packets are written as they come, so memory stays flat however
 * large the capture.
 */
function jsonPrinter(out: LineOutput, files: CaptureFileInfo[]): PacketPrinter {
  let first = true;
  out.line(`{"schema":"vxdump/1","files":${JSON.stringify(files)},"packets":[`);
  return {
    packet(packet, file) {
      if (!first) {
        out.reserve(1);
        out.bytes[out.used++] = 0x2c;
      }
      writePacketJson(out, packet, file);
      out.endLine();
      first = false;
    },
    end: (summary) => out.line(`],"summary":${JSON.stringify(summary)}}`),
  };
}

const ROWS_PER_TABLE = 1000; // a table is laid out in memory: print in pages to keep memory flat

class TablePrinter implements PacketPrinter {
  private table = TablePrinter.newTable();
  private rows = 0;

  constructor(private readonly out: LineOutput) {}

  private static newTable(): Table.Table {
    return new (cliTable3())({
      head: ['#', 'time', 'point', 'underlay', 'VNI', 'overlay', 'bytes'],
      style: { head: [], border: [] },
      wordWrap: true,
      colWidths: [null, null, null, 34, null, 70, null],
    } as Table.TableConstructorOptions);
  }

  packet(packet: Packet, file: string): void {
    const line = packetLine(packet, pointLabel(file, packet.frame.interfaceName));
    // The one-liner already says everything; split it at the tunnel into its two halves.
    const body = line.slice(line.indexOf(' ', line.indexOf(' ') + 1) + 1).replace(/, \d+ bytes(?= \[|$)/, '');
    const [underlay, overlay] = body.includes(' | ') ? body.split(' | ') : ['', body];
    const vni = packet.vxlan?.vni ?? '';
    const time = line.slice(0, line.indexOf(' '));
    this.table.push([packet.frame.index, time, pointLabel(file, packet.frame.interfaceName), underlay!.replace(/ VXLAN.*$/, ''), vni, overlay!, packet.frame.originalLength]);
    if (++this.rows === ROWS_PER_TABLE) this.flushTable();
  }

  private flushTable(): void {
    if (this.rows === 0) return;
    this.out.line(this.table.toString());
    this.table = TablePrinter.newTable();
    this.rows = 0;
  }

  end(summary: SummaryJson): void {
    this.flushTable();
    this.out.line(`\n${summaryToText(summary)}`);
  }
}
