import type { CompensateResult, ExecuteResult, VerifyResult } from '../../model/operation.js';
import { asActivity } from '../failures.js';
import { compensateStep } from './compensate-step.js';
import type { WritDeps } from './deps.js';
import { executeStep } from './execute-step.js';
import type { ExecutedStepInput, StepInput } from './step-input.js';
import { verifyStep } from './verify-step.js';

export function createStepActivities(deps: WritDeps) {
  return {
    /**
     * Write-ahead: `step.executing` (with the state just before) is in the ledger before the
     * side effect, `step.executed` after it, so a crash in between leaves evidence of the attempt.
     * A dry run takes the same path; only the commit is replaced by the connector's preview.
     */
    async executeStep(input: StepInput): Promise<ExecuteResult> {
      return asActivity(() => executeStep(deps, input));
    },

    /** Reads the target back and compares it with what was written (a dry run: with what was there). */
    async verifyStep(input: ExecutedStepInput): Promise<VerifyResult> {
      return asActivity(() => verifyStep(deps, input));
    },

    /** Undoes one step through its connector's rollback contract, inside the contract's window. */
    async compensateStep(input: ExecutedStepInput): Promise<CompensateResult> {
      return asActivity(() => compensateStep(deps, input));
    },
  };
}
