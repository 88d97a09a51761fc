import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import { failureType } from '../../model/errors.js';
import type { Json } from '../../model/json.js';
import type { StepSnapshot } from '../../model/operation.js';

/** What a step's write left behind: what to restore, and when it was made. */
export interface ExecutedStep {
  index: number;
  before: StepSnapshot;
  after: Json;
  executedAt: string;
}

/**
 * The ledger's refusal of a record whose key already held another one, if that is what failed. A
 * regular activity's failure reaches the workflow wrapped in an ActivityFailure; a local
 * activity's arrives as the ApplicationFailure itself (core wraps only its timeouts and
 * cancellations), so both are looked at.
 */
function keyConflictOf(error: unknown): ApplicationFailure | null {
  const failure = error instanceof ActivityFailure ? error.cause : error;
  return failure instanceof ApplicationFailure && failure.type === failureType('LEDGER_KEY_CONFLICT') ? failure : null;
}

export function isKeyConflict(error: unknown): boolean {
  return keyConflictOf(error) !== null;
}

/** A key conflict refused to a regular activity only: a local activity's is not taken for one. */
export function isScheduledActivityKeyConflict(error: unknown): boolean {
  return error instanceof ActivityFailure && isKeyConflict(error);
}

/** The write a step made although the ledger refused its record (a key conflict), if it says it made one. */
export function writtenDespiteConflict(error: unknown): Omit<ExecutedStep, 'index'> | null {
  const conflict = keyConflictOf(error)?.details?.[1] as
    { executed?: { before: StepSnapshot; after: Json; executedAt: string } } | undefined;
  const made = conflict?.executed;
  return made ? { before: made.before, after: made.after ?? null, executedAt: made.executedAt } : null;
}

export function failureMessage(error: unknown): string {
  return error instanceof ActivityFailure && error.cause ? error.cause.message : (error as Error).message;
}
