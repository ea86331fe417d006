/**
 * What can go wrong while reading a capture, phrased for the person who gave us the file:
 * which file, where in it (byte offset, frame or block number), and what is wrong there.
 */

/** Where in a capture file a problem sits. */
export interface CaptureLocation {
  /** Byte offset from the start of the file. */
  offset?: number;
  /** 1-based number of the frame being read when the problem was found. */
  frame?: number;
  /** 1-based number of the pcapng block, counted over the whole file. */
  block?: number;
}

/** The capture cannot be read (any further): bad magic, corrupt block, missing file. */
export class CaptureError extends Error {
  override readonly name = 'CaptureError';

  constructor(
    readonly file: string,
    readonly problem: string,
    readonly location: CaptureLocation = {},
  ) {
    super(`${file}: ${describeLocation(location)}${problem}`);
  }
}

/** Something the user should know about, after which reading ended normally (a cut-off file). */
export interface CaptureWarning {
  file: string;
  message: string;
  location: CaptureLocation;
}

export function formatWarning(warning: CaptureWarning): string {
  return `${warning.file}: ${describeLocation(warning.location)}${warning.message}`;
}

function describeLocation({ offset, frame, block }: CaptureLocation): string {
  const parts: string[] = [];
  if (block !== undefined) parts.push(`block ${block}`);
  if (frame !== undefined) parts.push(`frame ${frame}`);
  if (offset !== undefined) parts.push(`byte offset ${offset}`);
  return parts.length > 0 ? `${parts.join(', ')}: ` : '';
}
