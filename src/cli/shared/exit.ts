import { EXIT, exitCodeOf, isWritError } from '../../model/errors.js';

/**
 * DESIGN.md section 6: 0 success; 1 the thing checked is bad; 2 usage or environment error.
 * 3: `writ verify-bundle` found the bundle internally consistent but no trusted key was pinned,
 * so who signed it is unknown: never "verified". The table in model/errors maps codes to these.
 */
export { EXIT };

/**
 * Raised by commands to end with a code and a message, without a stack trace. Not a WritError:
 * it is the CLI's control flow, whose exit status each command picks for the case at hand
 * (a refused approval, an unknown signer, the demo's own outcome), not a failure with one meaning
 * a code could name; it never leaves the CLI.
 */
export class CliExit extends Error {
  override readonly name = 'CliExit';
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof CliExit) return error.exitCode;
  if (isWritError(error)) return exitCodeOf(error.code);
  return EXIT.usage;
}

export function describeForHuman(error: unknown): string {
  if (isWritError(error)) return `writ: ${error.message}${error.hint ? `\n${error.hint}` : ''}`;
  const message = error instanceof Error ? error.message : String(error);
  return `writ: ${message}`;
}
