import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The peer corpus lives beside the repository (../shared/corpus), as in CI. */
export const CORPUS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/corpus');

export function corpusAvailable(): boolean {
  return existsSync(join(CORPUS_DIR, 'INDEX.tsv'));
}

export interface CorpusEntry {
  /** Path relative to the corpus folder. */
  relpath: string;
  /** tshark's packet count, when it read the whole file. */
  packets: number | undefined;
  /** tshark's read error, when it had one. */
  tsharkError: string | undefined;
  fileType: string;
  linkTypes: string;
  category: string;
  /** tshark's protocol stacks with their frame counts ("eth:ethertype:ip:icmp:ip:udp (3) | ..."). */
  protocols: string;
}

/** INDEX.tsv: one row per capture, made by tshark and capinfos (see the corpus README). */
export function corpusIndex(): CorpusEntry[] {
  const [header, ...rows] = readFileSync(join(CORPUS_DIR, 'INDEX.tsv'), 'utf8').trimEnd().split('\n');
  const columns = header!.split('\t');
  const column = (name: string) => columns.indexOf(name);
  return rows.map((row) => {
    const cells = row.split('\t');
    const packets = cells[column('packets')]!;
    const errorAt = packets.indexOf('error:');
    return {
      relpath: cells[column('relpath')]!,
      packets: errorAt === -1 ? Number(packets) : undefined,
      tsharkError: errorAt === -1 ? undefined : packets.slice(errorAt),
      fileType: cells[column('file_type')]!,
      linkTypes: cells[column('link_types')]!,
      category: cells[column('category')]!,
      protocols: cells[column('protocols_seen')]!,
    };
  });
}
