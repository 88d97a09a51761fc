/**
 * The lifecycle: one transition table, the single source of truth for the workflow, the
 * what-happened view and the verifier. An illegal transition is a bug and throws.
 */
export const STATES = [
  'planned', 'validated', 'awaiting_approval', 'approved', 'executing', 'executed', 'verifying', 'verified', 'closed',
  'validation_failed', 'rejected', 'expired', 'execution_failed', 'verification_failed',
  'compensating', 'compensated', 'compensation_failed', 'needs_intervention',
] as const;
export type State = (typeof STATES)[number];

export const OUTCOMES = ['succeeded', 'dry_run', 'invalid', 'rejected', 'expired', 'rolled_back', 'failed', 'resolved_manually'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const TRANSITIONS: Readonly<Record<State, readonly State[]>> = {
  planned: ['validated', 'validation_failed'],
  validated: ['awaiting_approval', 'executing'],
  awaiting_approval: ['approved', 'rejected', 'expired'],
  // A stale approval (the target changed since it was given) goes back to approval.
  approved: ['executing', 'awaiting_approval'],
  executing: ['executed', 'execution_failed'],
  executed: ['verifying'],
  // After a step verifies, the next step executes; after the last, the operation closes.
  verifying: ['verified', 'verification_failed'],
  verified: ['executing', 'closed'],
  validation_failed: ['closed'],
  rejected: ['closed'],
  expired: ['closed'],
  execution_failed: ['compensating', 'closed'],
  verification_failed: ['compensating', 'closed'],
  compensating: ['compensated', 'compensation_failed'],
  compensated: ['closed'],
  compensation_failed: ['needs_intervention'],
  needs_intervention: ['closed'],
  closed: [],
};

/** Which outcomes each state may close with. */
export const CLOSING_OUTCOMES: Readonly<Partial<Record<State, readonly Outcome[]>>> = {
  verified: ['succeeded', 'dry_run'],
  validation_failed: ['invalid'],
  rejected: ['rejected'],
  expired: ['expired'],
  compensated: ['rolled_back'],
  // A failure with nothing executed before it has nothing to compensate.
  execution_failed: ['failed'],
  verification_failed: ['failed'],
  needs_intervention: ['resolved_manually'],
};

export class IllegalTransitionError extends Error {
  override readonly name = 'IllegalTransitionError';
}

export function assertTransition(from: State, to: State): void {
  if (!TRANSITIONS[from].includes(to)) {
    throw new IllegalTransitionError(`illegal lifecycle transition ${from} -> ${to}; allowed from ${from}: ${TRANSITIONS[from].join(', ') || 'none'}`);
  }
}

export function assertClosingOutcome(from: State, outcome: Outcome): void {
  if (!CLOSING_OUTCOMES[from]?.includes(outcome)) {
    throw new IllegalTransitionError(`an operation in state ${from} cannot close as ${outcome}`);
  }
}

/** Checks a whole recorded path, as the verifier and the what-happened view do. */
export function firstIllegalStep(path: readonly State[]): { index: number; from: State; to: State } | null {
  for (let i = 1; i < path.length; i++) {
    if (!TRANSITIONS[path[i - 1]!].includes(path[i]!)) return { index: i, from: path[i - 1]!, to: path[i]! };
  }
  return null;
}
