import { EventType } from '../../model/events.js';
import type { OperationResult } from '../../model/operation.js';
import type { GovernedActivities } from './activities.js';
import type { ExecutedStep } from './failures.js';
import { failureMessage, writtenDespiteConflict } from './failures.js';
import { reportStepFailure } from './refused-records.js';
import type { OperationRun } from './operation.js';
import { rollBackAndClose, stepSaga } from './rollback.js';
import type { Saga } from './saga.js';

interface StepCall {
  run: OperationRun;
  activities: GovernedActivities;
  saga: Saga<ExecutedStep>;
  index: number;
}

/**
 * Executes and verifies each step in order, pushing each write's undoing onto the saga; the first
 * step that fails to execute or to verify rolls back everything before it.
 */
export async function executeSteps(
  run: OperationRun,
  activities: GovernedActivities,
  expectedVersions: string[],
): Promise<OperationResult> {
  const saga = stepSaga(run, activities);
  for (const index of run.request.steps.keys()) {
    const failed = await executeStep({ run, activities, saga, index }, expectedVersions);
    if (failed) return rollBackAndClose(run, saga, failed);
  }
  return run.close(run.envelope!.mode === 'dry-run' ? 'dry_run' : 'succeeded');
}

/**
 * The version a step's target must still be when it runs, unless an earlier step of this
 * operation writes the same target (then the earlier write changed it, as planned).
 */
function expectedVersionOf(run: OperationRun, expectedVersions: string[], index: number): { expectedVersion?: string } {
  const identity = (step: { connector: string; target: string }) => `${step.connector}:${step.target}`;
  const target = identity(run.request.steps[index]!);
  const writtenEarlier = run.request.steps.slice(0, index).some((earlier) => identity(earlier) === target);
  const version = expectedVersions[index];
  return writtenEarlier || version === undefined ? {} : { expectedVersion: version };
}

/** Executes one step and reads it back; the cause of the rollback when either fails. */
async function executeStep(call: StepCall, expectedVersions: string[]): Promise<string | null> {
  const {
    run,
    activities: { outside, outsideOptions },
    saga,
    index,
  } = call;
  const envelope = run.envelope!;
  const step = run.request.steps[index]!;
  const view = run.steps[index]!;
  run.moveTo('executing', `step ${index + 1}`);
  view.status = 'executing';
  let result;
  try {
    const verb = envelope.mode === 'dry-run' ? 'preview' : 'execute';
    const summary = `${verb} step ${index + 1}: ${step.action} ${step.target}`;
    const input = { envelope, step, stepIndex: index, ...expectedVersionOf(run, expectedVersions, index) };
    result = await outside.executeStep.executeWithOptions({ ...outsideOptions, summary }, [input]);
  } catch (error) {
    result = { status: 'failed' as const, error: failureMessage(error), before: { version: 'unknown', state: null } };
    await reportStepFailure(run, EventType.stepExecutionFailed, 'execution_failed', index, { error: result.error });
    // The write was made but the ledger refused its record (a key conflict): undo it.
    const made = writtenDespiteConflict(error);
    if (made && envelope.mode === 'execute' && run.patches.has('writ-undo-write-whose-record-conflicted')) {
      saga.push({ index, ...made });
    }
  }
  if (result.status !== 'executed') {
    view.status = 'failed';
    view.error = result.error;
    run.moveTo('execution_failed', result.error);
    return `step ${index + 1} failed to execute: ${result.error}`;
  }
  view.before = result.before.state;
  view.after = result.preview ? result.preview.after : (result.after ?? null);
  view.status = envelope.mode === 'dry-run' ? 'previewed' : 'executed';
  run.moveTo('executed');
  const done: ExecutedStep = {
    index,
    before: result.before,
    after: result.after ?? null,
    executedAt: result.executedAt ?? new Date().toISOString(),
  };
  if (envelope.mode === 'execute') saga.push(done);
  return verifyStep(call, done);
}

/** Reads the step's target back: the cause of the rollback when it is not as written. */
async function verifyStep(call: StepCall, done: ExecutedStep): Promise<string | null> {
  const {
    run,
    activities: { checks, checkOptions },
    index,
  } = call;
  const step = run.request.steps[index]!;
  const view = run.steps[index]!;
  run.moveTo('verifying');
  let verdict;
  try {
    const { before, after, executedAt } = done;
    verdict = await checks.verifyStep.executeWithOptions(
      { ...checkOptions, summary: `verify step ${index + 1}: read back ${step.target}` },
      [{ envelope: run.envelope!, step, stepIndex: index, before, after, executedAt }],
    );
  } catch (error) {
    const reason = `verification could not run: ${failureMessage(error)}`;
    verdict = { ok: false, observed: null, expected: done.after, reason };
    await reportStepFailure(run, EventType.stepVerificationFailed, 'verification_failed', index, { ...verdict });
  }
  view.verification = verdict;
  if (!verdict.ok) {
    view.status = 'failed';
    run.moveTo('verification_failed', verdict.reason);
    return `step ${index + 1} failed verification: ${verdict.reason}`;
  }
  if (view.status === 'executed') view.status = 'verified';
  run.moveTo('verified');
  return null;
}
