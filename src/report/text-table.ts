import { createRequire } from 'node:module';
import type Table from 'cli-table3';

/*
 * Tables as cli-table3 draws them by default (box-drawing borders, a rule between rows, one
 * space of padding, columns as wide as their widest cell), drawn in linear time. cli-table3's
 * layout is quadratic in the number of rows: 8,000 rows took 11 s, so the summary of a capture
 * with 100,000 inner conversations never finished. Byte for byte the same as cli-table3 for
 * cells of printable ASCII on one line, which is what the summary holds; anything else (wide or
 * combining characters, colours, line breaks) is handed to cli-table3 itself.
 */

export type TableCell = string | number;

let cliTable3Class: typeof Table | undefined;

/** cli-table3, loaded on first use: most runs never draw with it, and loading it costs ~7 ms of start-up. */
export function cliTable3(): typeof Table {
  cliTable3Class ??= createRequire(import.meta.url)('cli-table3') as typeof Table;
  return cliTable3Class;
}

const PLAIN = /^[\x20-\x7e]*$/;

/** The table cli-table3 would draw for `new Table({ head, style: { head: [], border: [] } })`. */
export function renderTable(head: readonly string[], rows: readonly (readonly TableCell[])[]): string {
  const columns = head.length;
  const widths = head.map((h) => h.length);
  const text: string[][] = [];
  for (const row of rows) {
    const cells: string[] = [];
    for (let c = 0; c < columns; c++) {
      const cell = c < row.length ? String(row[c]) : '';
      if (!PLAIN.test(cell)) return withCliTable3(head, rows);
      if (cell.length > widths[c]!) widths[c] = cell.length;
      cells.push(cell);
    }
    if (row.length > columns) return withCliTable3(head, rows);
    text.push(cells);
  }
  for (const h of head) if (!PLAIN.test(h)) return withCliTable3(head, rows);

  const rule = (left: string, middle: string, right: string) => left + widths.map((w) => '─'.repeat(w + 2)).join(middle) + right;
  const line = (cells: readonly string[]) => `│ ${cells.map((cell, c) => cell.padEnd(widths[c]!)).join(' │ ')} │`;
  const between = rule('├', '┼', '┤');
  const out = [rule('┌', '┬', '┐'), line(head)];
  for (const cells of text) out.push(between, line(cells));
  out.push(rule('└', '┴', '┘'));
  return out.join('\n');
}

function withCliTable3(head: readonly string[], rows: readonly (readonly TableCell[])[]): string {
  // No colours: the output is read in terminals, CI logs and files alike.
  const table = new (cliTable3())({ head: [...head], style: { head: [], border: [] } });
  for (const row of rows) table.push([...row]);
  return table.toString();
}
