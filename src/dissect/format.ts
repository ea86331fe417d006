/**
 * Number-to-text for addresses. Decoders keep addresses as numbers; these run only when a
 * printer or the JSON writer asks for the Wireshark-style field map.
 */

const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** "56:84:7a:fe:97:99": lower-case, colon-separated, as Wireshark and the JSON contract write it. */
export function formatMac(mac: number): string {
  const hi = Math.floor(mac / 0x1_0000_0000);
  const lo = mac >>> 0;
  return (
    HEX2[(hi >>> 8) & 0xff] + ':' + HEX2[hi & 0xff] + ':' +
    HEX2[lo >>> 24] + ':' + HEX2[(lo >>> 16) & 0xff] + ':' + HEX2[(lo >>> 8) & 0xff] + ':' + HEX2[lo & 0xff]
  );
}

/** Dotted quad from an unsigned 32-bit address. */
export function formatIpv4(ip: number): string {
  return `${ip >>> 24}.${(ip >>> 16) & 0xff}.${(ip >>> 8) & 0xff}.${ip & 0xff}`;
}

/** Parses "a.b.c.d" into the unsigned number decoders use; undefined when it is not an IPv4 address. */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let ip = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    ip = ip * 256 + n;
  }
  return ip;
}

/** Parses "aa:bb:cc:dd:ee:ff" (or with dashes) into the 48-bit number decoders use. */
export function parseMac(text: string): number | undefined {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) return undefined;
  return parts.reduce((acc, p) => acc * 256 + parseInt(p, 16), 0);
}

export function hex(n: number, digits: number): string {
  return '0x' + n.toString(16).padStart(digits, '0');
}
