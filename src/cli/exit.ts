import { WritError } from '../errors.js';
import { InvalidRecordError } from '../ledger/record.js';

/**
 * DESIGN.md section 6: 0 success; 1 the thing checked is bad; 2 usage or environment error.
 * 3: `writ verify-bundle` found the bundle internally consistent but no trusted key was pinned,
 * so who signed it is unknown: never "verified".
 */
export const EXIT = { ok: 0, bad: 1, usage: 2, signerUnknown: 3 } as const;

/** Raised by commands to end with a code and a message, without a stack trace. */
export class CliExit extends Error {
  override readonly name = 'CliExit';
  constructor(readonly exitCode: number, message: string) {
    super(message);
  }
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof CliExit) return error.exitCode;
  if (error instanceof InvalidRecordError) return EXIT.bad;
  if (error instanceof WritError) return error.code === 'LEDGER_DAMAGED' ? EXIT.bad : EXIT.usage;
  return EXIT.usage;
}

export function describeForHuman(error: unknown): string {
  if (error instanceof WritError) return `writ: ${error.message}${error.hint ? `\n${error.hint}` : ''}`;
  if (error instanceof CliExit || error instanceof InvalidRecordError) return `writ: ${error.message}`;
  const message = error instanceof Error ? error.message : String(error);
  return `writ: ${message}`;
}
