/**
 * Interface names for the points of a `tcpdump -i any` capture, whose frames carry only the
 * index of their interface. They come from the node's own listing of its links, saved next to
 * the capture: `ip -j link` (JSON) or `ip -o link` / `ip link` (text).
 */

/** Interface index → name, from the text of `ip -j link`, `ip -o link` or `ip link`. */
export function parseLinkList(text: string): Map<number, string> {
  const names = new Map<number, string>();
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    const links = JSON.parse(trimmed) as unknown;
    if (!Array.isArray(links)) return names;
    for (const link of links as { ifindex?: unknown; ifname?: unknown }[]) {
      if (typeof link.ifindex === 'number' && typeof link.ifname === 'string') names.set(link.ifindex, link.ifname);
    }
    return names;
  }
  // "5: vxlan11: <BROADCAST,...>" or, for one end of a veth pair, "4: veth1b@if2: <...>".
  for (const line of text.split('\n')) {
    const match = /^(\d+):\s+([^:@\s]+)(?:@[^:\s]+)?:/.exec(line);
    if (match !== null) names.set(Number(match[1]), match[2]!);
  }
  return names;
}
