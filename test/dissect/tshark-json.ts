/**
 * A JSON reader for `tshark -T json` output that keeps duplicate keys.
 *
 * tshark writes one object per packet whose keys are protocol names in dissection order, and a
 * tunnelled packet repeats them: "eth", "ip", "udp", "vxlan", "eth", "ip", ... JSON.parse keeps
 * only the last of each, which would lose the outer headers. This parser returns every object
 * as an ordered list of [key, value] entries instead. (tshark's --no-duplicate-keys merges
 * repeats into arrays, which loses the interleaving of different protocols; don't use it.)
 */

export type JsonValue = string | number | boolean | null | JsonObject | JsonValue[];

/** An object with its entries in document order, duplicates kept. */
export class JsonObject {
  constructor(readonly entries: [string, JsonValue][]) {}

  /** The first value under `key`. */
  get(key: string): JsonValue | undefined {
    for (const [k, v] of this.entries) if (k === key) return v;
    return undefined;
  }
}

export function parseJsonKeepingDuplicates(text: string): JsonValue {
  let i = 0;

  const fail = (what: string): never => {
    throw new SyntaxError(`tshark JSON: ${what} at offset ${i}`);
  };
  const ws = (): void => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  const string = (): string => {
    // Fast path: no escapes.
    const start = ++i;
    let j = start;
    while (j < text.length) {
      const c = text.charCodeAt(j);
      if (c === 0x22) {
        i = j + 1;
        return text.slice(start, j);
      }
      if (c === 0x5c) break;
      j++;
    }
    // Escapes present: find the closing quote and let JSON.parse unescape.
    j = start;
    while (j < text.length) {
      const c = text.charCodeAt(j);
      if (c === 0x5c) j += 2;
      else if (c === 0x22) break;
      else j++;
    }
    if (j >= text.length) fail('unterminated string');
    const raw = text.slice(start - 1, j + 1);
    i = j + 1;
    return JSON.parse(raw) as string;
  };
  const value = (): JsonValue => {
    ws();
    const c = text[i];
    if (c === '"') return string();
    if (c === '{') {
      i++;
      const entries: [string, JsonValue][] = [];
      ws();
      if (text[i] === '}') {
        i++;
        return new JsonObject(entries);
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a key');
        const key = string();
        ws();
        if (text[i] !== ':') fail('expected ":"');
        i++;
        entries.push([key, value()]);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return new JsonObject(entries);
        }
        fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const items: JsonValue[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return items;
      }
      for (;;) {
        items.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return items;
        }
        fail('expected "," or "]"');
      }
    }
    const m = /^(?:-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 40));
    if (m === null) return fail('unexpected character');
    i += m[0].length;
    return JSON.parse(m[0]) as JsonValue;
  };

  const result = value();
  ws();
  if (i !== text.length) fail('trailing characters');
  return result;
}
