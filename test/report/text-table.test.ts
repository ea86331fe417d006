/** renderTable draws what cli-table3 draws, byte for byte, in linear time. */
import Table from 'cli-table3';
import { describe, expect, it } from 'vitest';
import { renderTable, type TableCell } from '../../src/report/text-table.js';

function cliTable3(head: string[], rows: TableCell[][]): string {
  const table = new Table({ head, style: { head: [], border: [] } });
  for (const row of rows) table.push(row);
  return table.toString();
}

describe('renderTable', () => {
  it('equals cli-table3 on random tables of ASCII cells, numbers and empty strings', () => {
    let seed = 7;
    const random = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
    const values: TableCell[] = ['', 'a', 'abc', 0, 12345, 1.5, '10.244.1.2:80', '-', 'x y', '  lead', 'trail  ', 'who-has'];
    for (let k = 0; k < 500; k++) {
      const columns = 1 + random(6);
      const head = Array.from({ length: columns }, () => String(values[random(values.length)]));
      const rows = Array.from({ length: random(5) }, () => Array.from({ length: columns }, () => values[random(values.length)]!));
      expect(renderTable(head, rows), JSON.stringify({ head, rows })).toBe(cliTable3(head, rows));
    }
  });

  it('hands cells it does not measure (wide characters, colours, line breaks) to cli-table3', () => {
    for (const odd of ['fünf', '日本', '\u001b[31mred\u001b[0m', 'two\nlines']) {
      expect(renderTable(['a', 'b'], [[odd, 1], ['x', 2]])).toBe(cliTable3(['a', 'b'], [[odd, 1], ['x', 2]]));
    }
  });

  it('draws 100,000 rows in well under a second', () => {
    const rows = Array.from({ length: 100_000 }, (_, i) => [i % 7, 'tcp', `10.244.1.${i % 250}:${i}`, '10.244.2.3:80', i]);
    const started = performance.now();
    const text = renderTable(['VNI', 'proto', 'A', 'B', 'packets'], rows);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(text.split('\n')).toHaveLength(3 + 2 * rows.length);
  });
});
