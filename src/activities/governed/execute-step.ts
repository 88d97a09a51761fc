import type { Json } from '../../model/json.js';
import type { ExecuteResult, StepSnapshot, StepWrite } from '../../model/operation.js';
import { hasCode } from '../../model/errors.js';
import { EventType } from '../../model/events.js';
import { toActivityFailure } from '../failures.js';
import type { WritDeps } from './deps.js';
import { operationEvent, stamped } from './events.js';
import { faultPoint } from './faults.js';
import { ownEarlierAttempt } from './own-earlier-attempt.js';
import type { StepInput } from './step-input.js';
import { clockOf, resolveStep } from './step-input.js';

type Resolved = ReturnType<typeof resolveStep>;

export async function executeStep(deps: WritDeps, input: StepInput): Promise<ExecuteResult> {
  const { envelope, stepIndex } = input;
  const resolved = resolveStep(deps, input);
  const before = await recordExecuting(deps, input, resolved);
  // The approval digest names the versions approved; a change since then (another writer in
  // the moment between the last check and now) must not be overwritten under that approval.
  // `before` is the first attempt's reading, so a retry after our own write still compares fairly.
  if (input.expectedVersion !== undefined && before.version !== input.expectedVersion)
    return refuseStale(deps, input, input.expectedVersion, before);
  faultPoint('before-execute');
  try {
    if (envelope.mode === 'dry-run') return await previewStep(deps, input, resolved, before);
    return await commitStep(deps, input, resolved, before);
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
}

/** Write-ahead: the state just before goes on the record before the side effect; returns that state. */
async function recordExecuting(deps: WritDeps, input: StepInput, { action, call }: Resolved): Promise<StepSnapshot> {
  const { envelope, stepIndex } = input;
  const seen = await action.snapshot(call);
  const executing = await deps.appender.append(
    stamped(
      operationEvent(envelope, EventType.stepExecuting, 'executing', {
        stepIndex,
        payload: {
          target: envelope.targets[stepIndex] ?? null,
          before: seen as unknown as Json,
          dryRun: envelope.mode === 'dry-run',
        },
      }),
    ),
    { acceptEarlier: ownEarlierAttempt('before') },
  );
  // A retry (the worker died after the write) must not take its own earlier write for the
  // state before: the first attempt's record says what was there, and rollback restores that.
  // The ledger handed it back only if this run wrote it in an earlier attempt (else: conflict).
  const recorded = (executing.earlier?.payload as { before?: StepSnapshot } | undefined)?.before;
  return executing.duplicate && recorded ? recorded : seen;
}

async function refuseStale(
  deps: WritDeps,
  input: StepInput,
  expectedVersion: string,
  before: StepSnapshot,
): Promise<ExecuteResult> {
  const error = `${input.step.connector}:${input.step.target} changed after it was validated and approved (version ${expectedVersion}, now ${before.version}); nothing was written`;
  await deps.appender.append(
    stamped(
      operationEvent(input.envelope, EventType.stepExecutionFailed, 'execution_failed', {
        stepIndex: input.stepIndex,
        payload: { error, stale: true, expectedVersion, foundVersion: before.version },
      }),
    ),
  );
  return { status: 'failed', before, error };
}

/** A dry run takes the same path as a write; only the commit is replaced by the connector's preview. */
async function previewStep(
  deps: WritDeps,
  input: StepInput,
  { action, call }: Resolved,
  before: StepSnapshot,
): Promise<ExecuteResult> {
  const preview = await action.preview(call, before);
  await deps.appender.append(
    stamped(
      operationEvent(input.envelope, EventType.stepExecuted, 'executed', {
        stepIndex: input.stepIndex,
        payload: {
          dryRun: true,
          wouldChange: { before: preview.before, after: preview.after },
          summary: preview.summary,
        },
      }),
    ),
  );
  return { status: 'executed', before, after: before.state, preview, executedAt: clockOf(deps)().toISOString() };
}

async function commitStep(
  deps: WritDeps,
  input: StepInput,
  { action, call }: Resolved,
  before: StepSnapshot,
): Promise<ExecuteResult> {
  const { envelope, stepIndex } = input;
  const execution = await action.execute(call, { idempotencyKey: `${envelope.operationId}/step/${stepIndex}`, before });
  faultPoint('after-execute');
  const executedAt = clockOf(deps)().toISOString();
  try {
    await deps.appender.append(
      stamped(
        operationEvent(envelope, EventType.stepExecuted, 'executed', {
          stepIndex,
          payload: { dryRun: false, before: before.state, after: execution.after, detail: execution.detail ?? {} },
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
}
