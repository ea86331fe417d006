const CELL = new Int32Array(new SharedArrayBuffer(4));

/**
 * Blocks the thread for `ms` milliseconds. Used only where a synchronous read or write on a
 * non-blocking pipe answered EAGAIN: the other end needs a moment, and there is no event loop
 * turn to wait on in a synchronous loop.
 */
export function pauseSync(ms: number): void {
  Atomics.wait(CELL, 0, 0, ms);
}
