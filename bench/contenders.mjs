// Everything `npm run bench` measures, one entry each. To add a contender, add an entry here:
//
//   name       what the table calls it
//   group      what `--only GROUP` selects (several contenders share one)
//   formats    which of the generated files it reads: 'pcap', 'pcapng'
//   node       a script in bench/child/ that reads FILE (argv[2]) and prints one JSON line
//              (child/report.mjs): timed by itself, without node's start-up
//   command    or (file) => argv of an external command; its stdout goes to /dev/null and it is
//              timed by the wall clock, start-up included
//   requires   a program that must be on the PATH, else the contender is skipped with a note
//   capSeconds if a run on the whole file would take longer (estimated from a run on the prefix
//              file), it runs on the prefix file instead, and the table says so
//   role       'subject' (held to the targets) or 'ceiling' (the bare read loop the
//              subject is compared with); absent for the others
//   subcommand a vxdump command the contender needs: skipped ("not built yet") while
//              `vxdump <subcommand> --help` fails
//   target     'trace' or 'diff': held to issue 5's targets (bench/run.mjs, TRACE_TARGETS)
//
// Formats 'path' and 'path-eth0' are file sets, not one file: the six captures of the synthetic
// VXLAN path (bench/generate-path.mjs) and its two eth0 captures. Their `command` gets the list
// of files, and packets/s counts the packets of all of them together.
//
// The next issue adds analyzers, e.g.:
//   { name: 'vxdump analyze --summary', group: 'analyze', formats: ['pcap', 'pcapng'],
//     command: (file) => ['node', 'bin/vxdump', 'analyze', '--summary', file] },
//   { name: 'tshark vxlan.vni', group: 'analyze', formats: ['pcap'], requires: 'tshark', capSeconds: 60,
//     command: (file) => ['tshark', '-n', '-r', file, '-d', 'udp.port==8472,vxlan', '-T', 'fields', '-e', 'vxlan.vni'] },
//   { name: 'tcpdump -nn -e', group: 'analyze', formats: ['pcap'], requires: 'tcpdump', capSeconds: 60,
//     command: (file) => ['tcpdump', '-nn', '-e', '-r', file] },

import { fileURLToPath } from 'node:url';

export const contenders = [
  {
    name: 'vxdump reader',
    group: 'reader',
    formats: ['pcap', 'pcapng'],
    node: 'child/vxdump-read.mjs',
    role: 'subject',
  },
  {
    name: 'bare read loop',
    group: 'reader',
    formats: ['pcap', 'pcapng'],
    node: 'child/bare-read.mjs',
    role: 'ceiling',
  },
  {
    // Reads microsecond pcap only: no pcapng row.
    name: 'pcap-parser',
    group: 'reader',
    formats: ['pcap'],
    node: 'child/pcap-parser.mjs',
  },
  {
    // Decodes and prints every packet: more work than reading, but what a user would run.
    name: 'tcpdump -n -r',
    group: 'reader',
    formats: ['pcap'],
    requires: 'tcpdump',
    capSeconds: 60,
    command: (file) => ['tcpdump', '-n', '-r', file],
  },
  {
    // tshark's reading-only baseline: every dissector off but the frame, one field printed.
    name: 'tshark (frame only)',
    group: 'reader',
    formats: ['pcap'],
    requires: 'tshark',
    capSeconds: 60,
    command: (file) => [
      'tshark', '-r', file, '-T', 'fields', '-e', 'frame.number',
      '--disable-protocol', 'ALL', '--enable-protocol', 'frame',
    ],
  },
  // Issue 3: the analyzer, next to what users would otherwise run. Wall clock, start-up included.
  {
    name: 'vxdump analyze --summary',
    group: 'analyze',
    formats: ['pcap', 'pcapng'],
    command: (file) => [process.execPath, VXDUMP, 'analyze', '--vxlan-port', '8472', '--summary', file],
  },
  {
    name: 'vxdump analyze (text)',
    group: 'analyze',
    formats: ['pcap'],
    capSeconds: 120,
    command: (file) => [process.execPath, VXDUMP, 'analyze', '--vxlan-port', '8472', file],
  },
  {
    name: 'vxdump analyze --format ndjson',
    group: 'analyze',
    formats: ['pcap'],
    capSeconds: 120,
    command: (file) => [process.execPath, VXDUMP, 'analyze', '--vxlan-port', '8472', '--format', 'ndjson', file],
  },
  {
    name: 'tshark -T fields -e vxlan.vni',
    group: 'analyze',
    formats: ['pcap'],
    requires: 'tshark',
    capSeconds: 60,
    command: (file) => ['tshark', '-n', '-r', file, '-d', 'udp.port==8472,vxlan', '-T', 'fields', '-e', 'vxlan.vni'],
  },
  {
    name: 'tcpdump -nn -e -v',
    group: 'analyze',
    formats: ['pcap'],
    requires: 'tcpdump',
    capSeconds: 60,
    command: (file) => ['tcpdump', '-nn', '-e', '-v', '-r', file],
  },
  // Issue 5: one packet followed over the six capture points of the static point-to-point path
  // (node1 br0, vxlan11, eth0, node2 eth0, vxlan11, br0); diff of the two eth0s.
  {
    name: 'vxdump trace --format json',
    group: 'trace',
    formats: ['path'],
    subcommand: 'trace',
    target: 'trace',
    command: (files) => [process.execPath, VXDUMP, 'trace', ...files, '--format', 'json'],
  },
  {
    name: 'vxdump trace (text)',
    group: 'trace',
    formats: ['path'],
    subcommand: 'trace',
    target: 'trace',
    command: (files) => [process.execPath, VXDUMP, 'trace', ...files],
  },
  {
    name: 'vxdump diff --format json',
    group: 'trace',
    formats: ['path-eth0'],
    subcommand: 'diff',
    target: 'diff',
    command: (files) => [process.execPath, VXDUMP, 'diff', files[0], files[1], '--format', 'json'],
  },
];

/** The formats that are the path generator's file sets rather than bench.pcap/bench.pcapng. */
export const PATH_FORMATS = ['path', 'path-eth0'];

const VXDUMP = fileURLToPath(new URL('../bin/vxdump', import.meta.url));

/** The argv that runs `contender` on `file` (for the path formats: a list of files). */
export function commandFor(contender, file) {
  if (contender.node) return [process.execPath, fileURLToPath(new URL(contender.node, import.meta.url)), file];
  return contender.command(file);
}

/**
 * The contenders `--only` asks for: a comma-separated list of groups or (parts of) names;
 * everything when absent.
 */
export function select(only) {
  if (!only) return contenders;
  const wanted = only.split(',').map((w) => w.trim().toLowerCase()).filter(Boolean);
  return contenders.filter((c) => wanted.some((w) => c.group === w || c.name.toLowerCase().includes(w)));
}
