/**
 * What every decoded layer has in common.
 *
 * A layer keeps its decoded values as plain numbers and booleans on the object (read them in hot
 * loops: `ip.src`, `vxlan.vni`); none of them refers back to the frame bytes, so a packet stays
 * correct after the capture reader has moved on. The Wireshark-named field map (`eth.src` →
 * "56:84:…") is built on first access of `fields`, because building strings for every packet is
 * what would make a summary pass slow.
 */

/** A field value in the Wireshark-named map. Repeated fields (options, SACK blocks) are arrays. */
export type FieldValue = number | string | boolean | readonly (number | string | boolean)[];
export type Fields = Readonly<Record<string, FieldValue>>;

/**
 * Checksum verdicts, named after Wireshark's `*.checksum.status` values:
 * - "good" / "bad": verified;
 * - "unverified": a checksum is present but could not be checked (the datagram was not captured
 *   whole, it is an IP fragment, it is quoted inside an ICMP error, or verification is off);
 * - "not present": the sender left it out (UDP checksum 0).
 * JSON writes these strings, where tshark writes 1, 0, 2 and 3.
 */
export type ChecksumStatus = 'good' | 'bad' | 'unverified' | 'not present';

export abstract class LayerBase {
  /** Wireshark's protocol name: "eth", "vlan", "ip", "udp", "vxlan", ... (a prototype getter). */
  abstract readonly protocol: string;
  /** Byte offset of the header in the frame. */
  abstract readonly offset: number;
  /** Header length in bytes (the payload follows). */
  abstract readonly length: number;
  /** Encapsulation depth: 0 for the outer packet, n inside the n-th VXLAN header. */
  abstract readonly depth: number;
  /**
   * True for layers decoded from the datagram quoted inside an ICMP error: they describe the
   * packet that caused the error, not this one, so the encapsulation helpers skip them.
   */
  declare quoted: boolean;
  protected declare cachedFields: Fields | undefined;

  // Why every subclass assigns all its properties itself, in its own constructor, with `declare`
  // instead of class fields: V8 (Node 20) is slow at two things this would otherwise do once per
  // layer. A class field is an own-property *definition*, which takes a runtime slow path when
  // one initializer sees objects of many shapes (made decoding 5× slower); and stores in a shared
  // base constructor see every layer class's shape (megamorphic, ~7 ns each). Stores in the
  // subclass constructor see one shape and cost next to nothing. `protocol` is a prototype getter.

  /** The Wireshark-named field map, built once on first use. */
  get fields(): Fields {
    if (this.cachedFields === undefined) this.cachedFields = this.buildFields();
    return this.cachedFields;
  }

  /**
   * The same fields as JSON text (`JSON.stringify(layer.fields)`, byte for byte), written
   * straight from the numbers with one template per protocol: for JSON/NDJSON output this is
   * about twice as fast as building the map and stringifying it. Not cached: output asks once.
   * test/dissect/json-text.test.ts holds the two to equality on every real and crafted packet.
   */
  get fieldsJson(): string {
    return this.buildFieldsJson();
  }

  /**
   * fieldsJson's bytes, written into `buf` at `pos` (see json-bytes.ts; the caller made room for
   * LAYER_FIELDS_ROOM bytes): returns the position after them, or -1 for a layer without a byte
   * writer, whose fieldsJson the caller writes instead. The common layers have one.
   */
  writeFieldsJson(_buf: Uint8Array, _pos: number): number {
    return -1;
  }

  protected abstract buildFields(): Fields;
  protected abstract buildFieldsJson(): string;
}
