import type { ValidatedEnvelope } from '../../model/envelope.js';
import type { StepWrite } from '../../model/operation.js';
import type { Step } from '../../model/request.js';
import type { WritDeps } from './deps.js';

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

/** The step's connector action, and the call it is made with (its parameters as the connector parses them). */
export function resolveStep(deps: WritDeps, input: StepInput) {
  const action = deps.registry.action(input.step.connector, input.step.action);
  const params = deps.registry.parseParams(input.step.connector, input.step.action, input.step.params);
  return { action, call: { target: input.step.target, params } };
}

export function clockOf(deps: WritDeps): () => Date {
  return deps.now ?? (() => new Date());
}
