import type { Frame } from './frame.js';
import type { CaptureReader } from './open.js';

/** A frame and the capture it came from. */
export interface SourcedFrame {
  frame: Frame;
  /** Position of the capture in the list given to mergeByTime. */
  source: number;
}

/**
 * Frames of several captures in time order (ties: the capture listed first), one frame held
 * per capture at any moment. A single capture is passed through unchanged, its own order kept.
 */
export function* mergeByTime(captures: readonly CaptureReader[]): Generator<SourcedFrame> {
  if (captures.length === 1) {
    const only = captures[0]!;
    for (let frame = only.next(); frame !== null; frame = only.next()) yield { frame, source: 0 };
    return;
  }
  const heads: (Frame | null)[] = captures.map((capture) => capture.next());
  for (;;) {
    let earliest = -1;
    for (let i = 0; i < heads.length; i++) {
      const head = heads[i];
      if (head === null || head === undefined) continue;
      if (earliest === -1 || head.timestampNs < heads[earliest]!.timestampNs) earliest = i;
    }
    if (earliest === -1) return;
    const frame = heads[earliest]!;
    // Hand the frame out before reading on: its bytes live in that capture's buffer.
    yield { frame, source: earliest };
    heads[earliest] = captures[earliest]!.next();
  }
}
