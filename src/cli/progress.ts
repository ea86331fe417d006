import { statSync } from 'node:fs';
import type { CaptureReader } from '../capture/open.js';

const WORTH_REPORTING_BYTES = 8 * 1024 * 1024;

/**
 * "vxdump: 41% of 820 MB" on standard error while a long read runs, and only when standard
 * error is a terminal: piped or redirected output stays clean.
 */
export class Progress {
  private lastDrawMs = 0;

  private constructor(private readonly totalBytes: number) {}

  /** A progress line for these files, or undefined when there is nothing worth reporting. */
  static forFiles(files: string[]): Progress | undefined {
    if (!process.stderr.isTTY) return undefined;
    let total = 0;
    for (const file of files) {
      if (file === '-') return undefined; // no size to measure against
      total += statSync(file).size;
    }
    return total >= WORTH_REPORTING_BYTES ? new Progress(total) : undefined;
  }

  update(captures: readonly CaptureReader[]): void {
    const done = captures.reduce((sum, capture) => sum + capture.position, 0);
    this.show(done / this.totalBytes);
  }

  /** The same from the fraction of the work done (trace reads a multi-interface file once per interface). */
  show(fraction: number): void {
    const now = Date.now();
    if (now - this.lastDrawMs < 250) return;
    this.lastDrawMs = now;
    const percent = Math.min(100, Math.floor(fraction * 100));
    process.stderr.write(`\rvxdump: ${percent}% of ${(this.totalBytes / 1e6).toFixed(0)} MB`);
  }

  done(): void {
    if (this.lastDrawMs > 0) process.stderr.write('\r\x1b[K');
  }
}
