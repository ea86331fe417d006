import { CaptureError } from '../capture/errors.js';
import { OutputError } from '../report/output.js';

/** Exit codes, as DESIGN.md fixes them for every command. */
export const ExitCode = {
  OK: 0,
  /** A check, assertion or diff found a difference. */
  DIFFERENCE: 1,
  /** Bad usage, unreadable input, or output that cannot be written. */
  USAGE_OR_INPUT: 2,
} as const;

/** A problem the user can act on: printed as one line, no stack trace. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.USAGE_OR_INPUT,
  ) {
    super(message);
  }
}

/** Prints an error the way every command does and returns the exit code to use. */
export function reportError(error: unknown): number {
  if (error instanceof CaptureError || error instanceof UserError || error instanceof OutputError) {
    process.stderr.write(`vxdump: ${error.message}\n`);
    return error instanceof UserError ? error.exitCode : ExitCode.USAGE_OR_INPUT;
  }
  throw error; // a bug: let Node print the stack, that is what we need to fix it
}

export function parseCount(value: string, option: string): number {
  if (!/^\d+$/.test(value)) throw new UserError(`${option} takes a whole number, not "${value}"`);
  return Number(value);
}
