import { readFileSync } from 'node:fs';
import { parseLinkList } from '../correlate/interface-names.js';
import { UserError } from './errors.js';

/**
 * `--links NODE=FILE`, repeatable: the names of a node's interfaces, for the points of its
 * `tcpdump -i any` capture (node1/if5 becomes node1/vxlan11). FILE holds what `ip -j link` or
 * `ip -o link` printed on that node.
 */
export function readLinks(values: readonly string[]): Map<string, Map<number, string>> {
  const byNode = new Map<string, Map<number, string>>();
  for (const value of values) {
    const equals = value.indexOf('=');
    if (equals <= 0) throw new UserError(`--links takes NODE=FILE (say node1=node1-links.json), not "${value}"`);
    const file = value.slice(equals + 1);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new UserError(`--links ${file}: ${(error as Error).message}`);
    }
    let names: Map<number, string>;
    try {
      names = parseLinkList(text);
    } catch (error) {
      throw new UserError(`--links ${file}: not the JSON of ip -j link (${(error as Error).message})`);
    }
    if (names.size === 0) throw new UserError(`--links ${file}: no interfaces in it; save what \`ip -j link\` or \`ip -o link\` prints on the node`);
    byNode.set(value.slice(0, equals), names);
  }
  return byNode;
}
