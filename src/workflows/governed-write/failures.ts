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

/** The ledger refused an activity's record: its key already held another one. */
export function isKeyConflict(error: unknown): boolean {
  return (
    error instanceof ActivityFailure &&
    error.cause instanceof ApplicationFailure &&
    error.cause.type === failureType('LEDGER_KEY_CONFLICT')
  );
}

/** The write a step made although the ledger refused its record (a key conflict), if it says it made one. */
export function writtenDespiteConflict(error: unknown): Omit<ExecutedStep, 'index'> | null {
  if (!isKeyConflict(error)) return null;
  const details = ((error as ActivityFailure).cause as ApplicationFailure).details;
  const conflict = details?.[1] as { executed?: { before: StepSnapshot; after: Json; executedAt: string } } | undefined;
  const made = conflict?.executed;
  return made ? { before: made.before, after: made.after ?? null, executedAt: made.executedAt } : null;
}

export function failureMessage(error: unknown): string {
  return error instanceof ActivityFailure && error.cause ? error.cause.message : (error as Error).message;
}
