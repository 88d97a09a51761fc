import type { VerifyResult } from '../../model/operation.js';
import { EventType } from '../../model/events.js';
import type { WritDeps } from './deps.js';
import { operationEvent, stamped } from './events.js';
import { faultPoint } from './faults.js';
import type { ExecutedStepInput } from './step-input.js';
import { resolveStep } from './step-input.js';

export async function verifyStep(deps: WritDeps, input: ExecutedStepInput): Promise<VerifyResult> {
  const { envelope, stepIndex } = input;
  const { action, call } = resolveStep(deps, input);
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
}
