import { WritError } from './errors.js';

/**
 * The lifecycle: one transition table, the single source of truth for the workflow (which throws
 * on an illegal transition: it is a bug) and for the verifiers, which read each closed
 * operation's recorded path back through `closedPathProblem` (`writ verify` via
 * ledger/lifecycle-check.ts, the bundle verifier, and the independent Python verifier's copy).
 */
export const STATES = [
  'planned',
  'validated',
  'awaiting_approval',
  'approved',
  'executing',
  'executed',
  'verifying',
  'verified',
  'closed',
  'validation_failed',
  'rejected',
  'expired',
  'execution_failed',
  'verification_failed',
  'compensating',
  'compensated',
  'compensation_failed',
  'needs_intervention',
] as const;
export type State = (typeof STATES)[number];

export const OUTCOMES = [
  'succeeded',
  'dry_run',
  'invalid',
  'rejected',
  'expired',
  'rolled_back',
  'failed',
  'resolved_manually',
] as const;
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

export class IllegalTransitionError extends WritError {
  override readonly name = 'IllegalTransitionError';
  constructor(message: string) {
    super('ILLEGAL_TRANSITION', message);
  }
}

export function assertTransition(from: State, to: State): void {
  if (!TRANSITIONS[from].includes(to)) {
    throw new IllegalTransitionError(
      `illegal lifecycle transition ${from} -> ${to}; allowed from ${from}: ${TRANSITIONS[from].join(', ') || 'none'}`,
    );
  }
}

export function assertClosingOutcome(from: State, outcome: Outcome): void {
  if (!CLOSING_OUTCOMES[from]?.includes(outcome)) {
    throw new IllegalTransitionError(`an operation in state ${from} cannot close as ${outcome}`);
  }
}

/** The first step of a path that the table does not allow. */
export function firstIllegalStep(path: readonly State[]): { index: number; from: State; to: State } | null {
  for (let i = 1; i < path.length; i++) {
    if (!TRANSITIONS[path[i - 1]!].includes(path[i]!)) return { index: i, from: path[i - 1]!, to: path[i]! };
  }
  return null;
}

export interface PathProblem {
  /** The illegal step as `from -> to`, or the part of the record that is wrong. */
  step: string;
  detail: string;
}

const isState = (value: unknown): value is State =>
  typeof value === 'string' && (STATES as readonly string[]).includes(value);

/**
 * Judges an `operation.closed` record's `payload.path` and `payload.outcome` against the table and
 * against `recorded`: the states the operation's own records carry, in seq order (the closing
 * record excluded). The path must start at `planned`, end at `closed`, take only steps the table
 * allows, close with an outcome the state before `closed` allows, and contain the recorded states
 * in their order (not every transition writes a record, but every record's state was passed
 * through): a path that skips approval cannot close an operation whose records say it waited.
 */
export function closedPathProblem(
  path: unknown,
  outcome: unknown,
  recorded: readonly (string | null)[],
): PathProblem | null {
  if (!Array.isArray(path) || path.length < 2 || !path.every(isState)) {
    return { step: 'path', detail: 'payload.path is not a list of lifecycle states from planned to closed' };
  }
  if (path[0] !== 'planned') return { step: `(start) -> ${path[0]}`, detail: 'the path does not start at planned' };
  const illegal = firstIllegalStep(path);
  if (illegal)
    return {
      step: `${illegal.from} -> ${illegal.to}`,
      detail: `illegal step ${illegal.index} of the path; allowed from ${illegal.from}: ${TRANSITIONS[illegal.from].join(', ') || 'none'}`,
    };
  const last = path[path.length - 1]!;
  if (last !== 'closed') return { step: `${last} -> (end)`, detail: 'the path does not end at closed' };
  const before = path[path.length - 2]!;
  if (!CLOSING_OUTCOMES[before]?.includes(outcome as Outcome)) {
    return {
      step: `${before} -> closed`,
      detail: `an operation in state ${before} cannot close as ${JSON.stringify(outcome)}; allowed: ${CLOSING_OUTCOMES[before]?.join(', ') ?? 'none'}`,
    };
  }
  // Greedy subsequence match: the path may repeat states (each step executes; a stale approval returns).
  let at = 0;
  let previous: string | null = null;
  for (const state of recorded) {
    if (state === null || state === previous) continue;
    while (at < path.length - 1 && path[at] !== state) at++;
    if (at === path.length - 1) {
      return {
        step: `${previous ?? '(start)'} -> ${state}`,
        detail: `the operation's records pass through ${state}${previous ? ` after ${previous}` : ''}, which the closing path does not`,
      };
    }
    previous = state;
  }
  return null;
}
