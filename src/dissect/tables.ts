import type { DecodeContext } from './context.js';

/**
 * A decoder reads the header at `offset` (its data ends at `end`, exclusive), pushes its layer
 * and hands the payload to the next decoder through a dissector table.
 */
export type Decoder = (ctx: DecodeContext, offset: number, end: number) => void;

/**
 * Wireshark-style dissector tables: which decoder runs next is a lookup, never an `if` in the
 * previous decoder. Registering VXLAN at UDP port 8472 is Wireshark's "Decode As".
 *
 * Flat arrays indexed by the key, not Maps: ethertype and port lookups happen several times per
 * packet, and an array index is the cheapest lookup there is.
 */
export class DissectorTables {
  readonly linkType = new Map<number, Decoder>();
  readonly ethertype: (Decoder | undefined)[] = new Array<Decoder | undefined>(0x10000).fill(undefined);
  readonly ipProtocol: (Decoder | undefined)[] = new Array<Decoder | undefined>(0x100).fill(undefined);
  readonly udpPort: (Decoder | undefined)[] = new Array<Decoder | undefined>(0x10000).fill(undefined);
  /**
   * Tried in order on a UDP payload whose ports are in no table (Wireshark's heuristic
   * dissectors); each returns true when it recognised and decoded the payload.
   */
  readonly udpHeuristics: ((ctx: DecodeContext, offset: number, end: number) => boolean)[] = [];
}
