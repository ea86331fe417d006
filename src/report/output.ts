import { writeSync } from 'node:fs';
import { pauseSync } from '../io/pause.js';

/**
 * Line output to a file descriptor (standard output by default), gathered into large writes.
 * console.log and process.stdout.write cost a system call or a stream hop per line, which at a
 * million lines a second is most of the run.
 */
export class LineOutput {
  private pending: string[] = [];
  private pendingChars = 0;
  private closedByReader = false;

  constructor(
    private readonly fd = 1,
    private readonly flushAtChars = 256 * 1024,
  ) {}

  /** False once the reader has gone away (`vxdump ... | head`): stop producing. */
  get open(): boolean {
    return !this.closedByReader;
  }

  line(text: string): void {
    this.pending.push(text);
    this.pendingChars += text.length + 1;
    if (this.pendingChars >= this.flushAtChars) this.flush();
  }

  flush(): void {
    if (this.pending.length === 0 || this.closedByReader) return;
    const bytes = Buffer.from(this.pending.join('\n') + '\n', 'utf8');
    this.pending = [];
    this.pendingChars = 0;
    writeFully(this.fd, bytes, () => (this.closedByReader = true));
  }
}


function writeFully(fd: number, bytes: Buffer, onReaderGone: () => void): void {
  let written = 0;
  while (written < bytes.length) {
    try {
      written += writeSync(fd, bytes, written, bytes.length - written);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        pauseSync(2); // a non-blocking pipe that is full: let the reader catch up
        continue;
      }
      if (code === 'EPIPE') {
        onReaderGone();
        return;
      }
      throw error;
    }
  }
}
