import type { Json } from '../../model/json.js';
import { rollbackWindowRefusal } from '../../model/contract.js';
import type { CompensateResult, ExecuteResult, StepSnapshot, StepWrite, VerifyResult } from '../../model/operation.js';
import type { Step } from '../../model/request.js';
import type { ValidatedEnvelope } from '../../model/envelope.js';
import { faultPoint } from './faults.js';
import type { AcceptEarlier } from '../../ledger/appender.js';
import { canonicalBytes } from '../../verify/canonical.js';
import { asActivity, toActivityFailure } from '../failures.js';
import { ensureError, hasCode } from '../../model/errors.js';
import type { WritDeps } from './deps.js';
import { operationEvent, stamped } from './events.js';
import { EventType } from '../../model/events.js';

export interface StepInput {
  envelope: ValidatedEnvelope;
  step: Step;
  stepIndex: number;
  /**
   * The target's version when the operation was last validated or approved; absent when an
   * earlier step of the same operation writes the same target (its version then moves legitimately).
   */
  expectedVersion?: string;
}

export interface ExecutedStepInput extends StepInput, StepWrite {}

/**
 * Records whose content may differ on retry in named payload members only: `step.executing`'s
 * `before`, read again by an attempt that may come after the first attempt's own write, and the
 * connector's `detail` of a write or rollback repeated under its idempotency key (`repeated`,
 * `attempts`). The earlier record is trusted only when the same workflow run wrote it in an
 * earlier attempt and nothing else differs; anything else under the key (another writer's,
 * another run's, this attempt's own number) is a conflict.
 */
const ownEarlierAttempt =
  (...volatile: string[]): AcceptEarlier =>
  (earlier, draft, differences) => {
    if (!draft.workflow || differences.some((member) => member !== 'payload')) return false;
    const workflow = earlier.workflow as
      { workflowId?: unknown; runId?: unknown; activityAttempt?: unknown } | null | undefined;
    if (workflow?.workflowId !== draft.workflow.workflowId || workflow.runId !== draft.workflow.runId) return false;
    if (
      typeof workflow.activityAttempt !== 'number' ||
      !Number.isInteger(workflow.activityAttempt) ||
      workflow.activityAttempt < 1 ||
      workflow.activityAttempt >= draft.workflow.activityAttempt
    )
      return false;
    const stable = (payload: unknown) =>
      Object.fromEntries(
        Object.entries((payload ?? {}) as Record<string, unknown>).filter(([member]) => !volatile.includes(member)),
      );
    try {
      return canonicalBytes(stable(earlier.payload)).equals(canonicalBytes(stable(draft.payload)));
    } catch {
      return false;
    }
  };

export function createStepActivities(deps: WritDeps) {
  const now = deps.now ?? (() => new Date());
  const resolve = (input: StepInput) => {
    const action = deps.registry.action(input.step.connector, input.step.action);
    const params = deps.registry.parseParams(input.step.connector, input.step.action, input.step.params);
    return { action, call: { target: input.step.target, params } };
  };

  return {
    /**
     * Write-ahead: `step.executing` (with the state just before) is in the ledger before the
     * side effect, `step.executed` after it, so a crash in between leaves evidence of the attempt.
     * A dry run takes the same path; only the commit is replaced by the connector's preview.
     */
    async executeStep(input: StepInput): Promise<ExecuteResult> {
      return asActivity(async () => {
        const { envelope, stepIndex } = input;
        const dryRun = envelope.mode === 'dry-run';
        const { action, call } = resolve(input);
        const seen = await action.snapshot(call);
        const executing = await deps.appender.append(
          stamped(
            operationEvent(envelope, EventType.stepExecuting, 'executing', {
              stepIndex,
              payload: { target: envelope.targets[stepIndex] ?? null, before: seen as unknown as Json, dryRun },
            }),
          ),
          { acceptEarlier: ownEarlierAttempt('before') },
        );
        // A retry (the worker died after the write) must not take its own earlier write for the
        // state before: the first attempt's record says what was there, and rollback restores that.
        // The ledger handed it back only if this run wrote it in an earlier attempt (else: conflict).
        const recorded = (executing.earlier?.payload as { before?: StepSnapshot } | undefined)?.before;
        const before: StepSnapshot = executing.duplicate && recorded ? recorded : seen;
        // The approval digest names the versions approved; a change since then (another writer in
        // the moment between the last check and now) must not be overwritten under that approval.
        // `before` is the first attempt's reading, so a retry after our own write still compares fairly.
        if (input.expectedVersion !== undefined && before.version !== input.expectedVersion) {
          const error = `${input.step.connector}:${input.step.target} changed after it was validated and approved (version ${input.expectedVersion}, now ${before.version}); nothing was written`;
          await deps.appender.append(
            stamped(
              operationEvent(envelope, EventType.stepExecutionFailed, 'execution_failed', {
                stepIndex,
                payload: { error, stale: true, expectedVersion: input.expectedVersion, foundVersion: before.version },
              }),
            ),
          );
          return { status: 'failed', before, error };
        }
        faultPoint('before-execute');
        try {
          if (dryRun) {
            const preview = await action.preview(call, before);
            await deps.appender.append(
              stamped(
                operationEvent(envelope, EventType.stepExecuted, 'executed', {
                  stepIndex,
                  payload: {
                    dryRun: true,
                    wouldChange: { before: preview.before, after: preview.after },
                    summary: preview.summary,
                  },
                }),
              ),
            );
            return { status: 'executed', before, after: before.state, preview, executedAt: now().toISOString() };
          }
          const execution = await action.execute(call, {
            idempotencyKey: `${envelope.operationId}/step/${stepIndex}`,
            before,
          });
          faultPoint('after-execute');
          const executedAt = now().toISOString();
          try {
            await deps.appender.append(
              stamped(
                operationEvent(envelope, EventType.stepExecuted, 'executed', {
                  stepIndex,
                  payload: {
                    dryRun: false,
                    before: before.state,
                    after: execution.after,
                    detail: execution.detail ?? {},
                  },
                }),
              ),
              { acceptEarlier: ownEarlierAttempt('detail') },
            );
          } catch (error) {
            // The write is made but its record was refused (the ledger recorded the conflict):
            // the workflow is told what was written, so it can undo it rather than call it done.
            if (hasCode(error, 'LEDGER_KEY_CONFLICT')) {
              const executed: StepWrite = { before, after: execution.after, executedAt };
              throw toActivityFailure(error, { details: [{ executed }] });
            }
            throw error;
          }
          faultPoint('after-executed-record');
          return { status: 'executed', before, after: execution.after, executedAt };
        } catch (error) {
          if (!hasCode(error, 'CONNECTOR_INPUT')) throw error;
          await deps.appender.append(
            stamped(
              operationEvent(envelope, EventType.stepExecutionFailed, 'execution_failed', {
                stepIndex,
                payload: { error: error.message },
              }),
            ),
          );
          return { status: 'failed', before, error: error.message };
        }
      });
    },

    /** Reads the target back and compares it with what was written (a dry run: with what was there). */
    async verifyStep(input: ExecutedStepInput): Promise<VerifyResult> {
      return asActivity(async () => {
        const { envelope, stepIndex } = input;
        const { action, call } = resolve(input);
        let verdict: VerifyResult;
        if (envelope.mode === 'dry-run') {
          const now = await action.snapshot(call);
          verdict =
            now.version === input.before.version
              ? { ok: true, observed: now.state, expected: input.before.state }
              : {
                  ok: false,
                  observed: now.state,
                  expected: input.before.state,
                  reason: 'the target changed during the dry run',
                };
        } else {
          verdict = await action.verify(call, { before: input.before, execution: { after: input.after } });
        }
        faultPoint('after-verify');
        await deps.appender.appendAll([
          stamped(operationEvent(envelope, EventType.stepVerifying, 'verifying', { stepIndex })),
          stamped(
            operationEvent(
              envelope,
              verdict.ok ? EventType.stepVerified : EventType.stepVerificationFailed,
              verdict.ok ? 'verified' : 'verification_failed',
              { stepIndex, payload: { ...verdict, dryRun: envelope.mode === 'dry-run' } },
            ),
          ),
        ]);
        return verdict;
      });
    },

    /** Undoes one step through its connector's rollback contract, inside the contract's window. */
    async compensateStep(input: ExecutedStepInput): Promise<CompensateResult> {
      return asActivity(async () => {
        const { envelope, stepIndex } = input;
        const { action, call } = resolve(input);
        await deps.appender.append(
          stamped(
            operationEvent(envelope, EventType.stepCompensating, 'compensating', {
              stepIndex,
              payload: { method: action.contract.method, restoring: input.before.state },
            }),
          ),
        );
        const fail = async (message: string): Promise<CompensateResult> => {
          await deps.appender.append(
            stamped(
              operationEvent(envelope, EventType.stepCompensationFailed, 'compensating', {
                stepIndex,
                payload: { error: message },
              }),
            ),
          );
          return { ok: false, error: message };
        };
        if (!action.contract.canRollback)
          return fail(
            `${input.step.connector}.${input.step.action} cannot be rolled back (${action.contract.method}): ${action.contract.limitations}`,
          );
        const late = rollbackWindowRefusal(action.contract, input.executedAt, now());
        if (late) return fail(late);
        try {
          const result = await action.rollback(call, {
            idempotencyKey: `${envelope.operationId}/step/${stepIndex}`,
            before: input.before,
            execution: { after: input.after },
          });
          await deps.appender.append(
            stamped(
              operationEvent(envelope, EventType.stepCompensated, 'compensating', {
                stepIndex,
                payload: { method: action.contract.method, restored: result.restored, detail: result.detail ?? {} },
              }),
            ),
            { acceptEarlier: ownEarlierAttempt('detail') },
          );
          return { ok: true, restored: result.restored };
        } catch (error) {
          return fail(ensureError(error).message);
        }
      });
    },
  };
}
