import { ApplicationFailure } from '@temporalio/activity';
import { ERROR_RULES, WritError, isWritError } from '../model/errors.js';

interface FailureOptions {
  /** More details after the error's own (what was written before a record was refused). */
  details?: unknown[];
  /** Keep the error as the failure's cause (the ledger activity does, for retryable failures). */
  keepCause?: boolean;
}

/**
 * Errors leave activities as ApplicationFailures whose `type` is the error's code and whose
 * `nonRetryable` comes from the table in model/errors: the workflow and the retry policies branch
 * on the type, never on `instanceof`. Codes the table leaves untyped, and errors that are not
 * Writ's, leave as thrown.
 */
export function toActivityFailure(thrown: unknown, options: FailureOptions = {}): unknown {
  // Input nested or sized past what code can walk surfaces as a RangeError from the runtime.
  const error =
    thrown instanceof RangeError
      ? new WritError('INPUT_REFUSED', `input refused: ${thrown.message.slice(0, 200)}`)
      : thrown;
  if (!isWritError(error) || !ERROR_RULES[error.code].typedFailure) return error;
  const { retryable } = ERROR_RULES[error.code];
  const own = error.failureDetails;
  const details = own || options.details ? [...(own ?? []), ...(options.details ?? [])] : undefined;
  const cause = options.keepCause && retryable ? error : undefined;
  return ApplicationFailure.create({
    type: error.code,
    message: error.message,
    nonRetryable: !retryable,
    details,
    cause,
  });
}

export async function asActivity<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toActivityFailure(error);
  }
}
