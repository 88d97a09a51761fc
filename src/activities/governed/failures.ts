import { ApplicationFailure } from '@temporalio/activity';
import { ConnectorInputError } from '../../connectors/types.js';
import { WritError } from '../../errors.js';
import { InvalidRecordError } from '../../ledger/record.js';
import { LedgerKeyConflictError } from '../../ledger/appender.js';

/**
 * Errors leave activities as ApplicationFailures whose `type` says whether a retry can help:
 * the workflow and the retry policies branch on the type, never on `instanceof`.
 */
export function toFailure(error: unknown): unknown {
  if (error instanceof ConnectorInputError) return ApplicationFailure.create({ type: 'CONNECTOR_INPUT', message: error.message, nonRetryable: true });
  if (error instanceof InvalidRecordError) return ApplicationFailure.create({ type: 'INVALID_RECORD', message: error.message, nonRetryable: true });
  // A key held by a different record is evidence of a conflict (recorded by the ledger), never a reason to try again.
  if (error instanceof LedgerKeyConflictError) return ApplicationFailure.create({ type: error.code, message: error.message, nonRetryable: true, details: [error.conflict] });
  // Input nested or sized past what code can walk will be just as deep on every retry.
  if (error instanceof RangeError) return ApplicationFailure.create({ type: 'INPUT_REFUSED', message: `input refused: ${error.message.slice(0, 200)}`, nonRetryable: true });
  if (error instanceof WritError) return ApplicationFailure.create({ type: error.code, message: error.message, nonRetryable: false });
  return error;
}

export async function asActivity<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toFailure(error);
  }
}
