import { rollbackWindowRefusal } from '../../model/contract.js';
import type { CompensateResult } from '../../model/operation.js';
import { ensureError } from '../../model/errors.js';
import { EventType } from '../../model/events.js';
import type { WritDeps } from './deps.js';
import { operationEvent, stamped } from './events.js';
import { faultPoint } from './faults.js';
import { ownEarlierAttempt } from './own-earlier-attempt.js';
import type { ExecutedStepInput } from './step-input.js';
import { clockOf, resolveStep } from './step-input.js';

export async function compensateStep(deps: WritDeps, input: ExecutedStepInput): Promise<CompensateResult> {
  const { envelope, stepIndex } = input;
  const { action, call } = resolveStep(deps, input);
  await deps.appender.append(
    stamped(
      operationEvent(envelope, EventType.stepCompensating, 'compensating', {
        stepIndex,
        payload: { method: action.contract.method, restoring: input.before.state },
      }),
    ),
  );
  if (!action.contract.canRollback)
    return compensationFailed(
      deps,
      input,
      `${input.step.connector}.${input.step.action} cannot be rolled back (${action.contract.method}): ${action.contract.limitations}`,
    );
  const late = rollbackWindowRefusal(action.contract, input.executedAt, clockOf(deps)());
  if (late) return compensationFailed(deps, input, late);
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
    return compensationFailed(deps, input, ensureError(error).message);
  }
}

async function compensationFailed(
  deps: WritDeps,
  input: ExecutedStepInput,
  message: string,
): Promise<CompensateResult> {
  await deps.appender.append(
    stamped(
      operationEvent(input.envelope, EventType.stepCompensationFailed, 'compensating', {
        stepIndex: input.stepIndex,
        payload: { error: message },
      }),
    ),
    // An earlier attempt of this run that failed and was recorded, then lost with its worker, stands:
    // one failure record a step, whatever the retry's own error says.
    { acceptEarlier: ownEarlierAttempt('error') },
  );
  faultPoint('after-compensation-failed-record');
  return { ok: false, error: message };
}
