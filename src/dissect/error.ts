/**
 * Where and why decoding stopped early (etherparse's "lax slicing" idea): every layer before
 * the error is kept, and the error names the layer that could not be read, its byte offset in
 * the frame, and what was wrong, e.g. "ipv4: header length 24 > 20 bytes left at offset 50".
 */
export interface DissectError {
  /** Protocol name of the layer that stopped, as in Layer.protocol ("ip", "udp", ...). */
  readonly layer: string;
  /** Byte offset in the frame where that layer starts. */
  readonly offset: number;
  readonly message: string;
  /**
   * True when the bytes are missing because the capture cut the frame (snap length), i.e. the
   * frame was fine on the wire ("short" in Wireshark); false for a frame that is malformed.
   */
  readonly truncated: boolean;
}
