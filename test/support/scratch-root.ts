import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/*
 * Vitest global setup: one scratch folder for the whole run, removed when the run ends, so the
 * files tests write (crafted captures, edited copies) do not pile up in the system's temp folder.
 * The workers that run the tests are started after this and inherit the variable.
 */
export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'vxdump-tests-'));
  process.env.VXDUMP_TEST_SCRATCH = root;
  return () => rmSync(root, { recursive: true, force: true });
}
