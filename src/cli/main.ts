import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerAnalyze } from './analyze.js';
import { registerDiff } from './diff.js';
import { ExitCode } from './errors.js';
import { registerTrace } from './trace.js';

function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}

export function buildProgram(): Command {
  const program = new Command('vxdump')
    .description('pcap/pcapng dissector and packet-flow analyzer for VXLAN overlay networks')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .addHelpText(
      'after',
      `
Examples:
  vxdump analyze eth0.pcap --vxlan-port 8472
  vxdump analyze node1-eth0.pcap --format ndjson | jq .
  vxdump trace fixtures/p2p-4789/*.pcap
  vxdump diff fixtures/loss/node2-eth0.pcap fixtures/loss/node2-vxlan11.pcap
  vxdump analyze --help`,
    );
  registerAnalyze(program);
  registerTrace(program);
  registerDiff(program);
  for (const command of program.commands) command.exitOverride();
  return program;
}

export function main(argv: string[]): void {
  // `vxdump ... --help | head`: the reader went away, which is not an error worth a stack trace.
  // (Packet output has its own writer, which stops reading the capture when this happens.)
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(ExitCode.OK);
  });
  try {
    buildProgram().parse(argv);
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    // --help and --version end here too, with exit code 0; usage errors (already printed) get 2.
    process.exitCode = error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE_OR_INPUT;
  }
}
