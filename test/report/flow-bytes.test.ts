/** A trace's flows written as bytes (flow-bytes.ts) are byte for byte what JSON.stringify makes of flowJson. */
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Flow } from '../../src/correlate/flows.js';
import { utf8 } from '../../src/dissect/json-bytes.js';
import { writeFlowLine } from '../../src/report/flow-bytes.js';
import { LineOutput } from '../../src/report/output.js';
import { flowJson } from '../../src/report/trace-json-objects.js';
import { scratchDir } from '../support/craft.js';
import { FIXTURES, traceScenario } from '../correlate/support.js';

const SCENARIOS = readdirSync(FIXTURES, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

/** The lines writeFlowLine writes for `flows`, through a real LineOutput into a file. */
function writtenLines(flows: readonly Flow[], labels: readonly string[], directionKnown?: boolean): string[] {
  const path = join(scratchDir('flow-bytes-'), 'flows.json');
  const fd = openSync(path, 'w');
  // A small buffer: flows must also come out whole across the flushes.
  const out = new LineOutput(fd, 4096);
  const labelJson = labels.map((label) => utf8(JSON.stringify(label)));
  flows.forEach((flow, i) => writeFlowLine(out, flow, labelJson, labels, directionKnown ?? flow.directionKnown, i > 0));
  out.flush();
  closeSync(fd);
  return readFileSync(path, 'utf8').split('\n').slice(0, -1);
}

describe('writeFlowLine', () => {
  const seen = { icmpError: 0, varying: 0, quotedFlows: 0, unknownDirection: 0, noReverse: 0, hops: 0 };

  it.each(SCENARIOS)('%s: every flow and both directions, byte for byte', (scenario) => {
    const { result, labels } = traceScenario(scenario);
    const expected = (flows: readonly Flow[], directionKnown?: boolean) =>
      flows.map((flow, i) => `${i > 0 ? ',' : ''}${JSON.stringify(flowJson(flow, labels, directionKnown ?? flow.directionKnown))}`);
    expect(result.flows.length).toBeGreaterThan(0);
    expect(writtenLines(result.flows, labels)).toEqual(expected(result.flows));
    expect(writtenLines(result.directions, labels, true)).toEqual(expected(result.directions, true));
    for (const flow of [...result.flows, ...result.directions]) {
      if (flow.icmpError !== null) seen.icmpError += 1;
      if (flow.hops.some((hop) => hop.varying.length > 0)) seen.varying += 1;
      if (flow.quotedFlows.length > 0) seen.quotedFlows += 1;
      if (!flow.directionKnown) seen.unknownDirection += 1;
      if (flow.reverse === null) seen.noReverse += 1;
      seen.hops += flow.hops.length;
    }
  });

  it('the fixtures hold every rare part of a flow or direction, so that the comparison above covers it', () => {
    // Runs after the scenarios (vitest keeps the order within a file).
    for (const [part, flows] of Object.entries(seen)) expect(flows, part).toBeGreaterThan(0);
  });
});
