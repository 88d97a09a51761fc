/**
 * One error type with a string code, so callers (the CLI's exit codes, activity retry policies,
 * tests) branch on `code` rather than on `instanceof` across package boundaries.
 */
export type WritErrorCode =
  | 'USAGE'
  | 'CONFIG'
  | 'DB_UNREACHABLE'
  | 'DB_MISSING'
  | 'INVALID_RECORD'
  | 'LEDGER_APPEND_FAILED'
  | 'LEDGER_DAMAGED'
  | 'TEMPORAL_CLI_MISSING'
  | 'TEMPORAL_UNREACHABLE';

export class WritError extends Error {
  override readonly name = 'WritError';
  constructor(
    readonly code: WritErrorCode,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Anything thrown becomes an Error, so callers never handle `unknown`. */
export function ensureError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : JSON.stringify(value));
}
