/**
 * The event vocabulary of an operation: every record type Writ's workflow and activities write,
 * the classes readers group them by, and the draft (with its idempotency key) each is written as.
 * Pure, so the workflow, the activities, the projection's readers and the bundle share one list.
 * The SQL projection (migrations/0003_what_happened.sql) knows the same types; a test holds the
 * two together.
 */
import { workflowEventKey } from './event-keys.js';
import type { State } from './lifecycle.js';

export const EventType = {
  operationPlanned: 'operation.planned',
  policyDecided: 'policy.decided',
  operationValidated: 'operation.validated',
  operationValidationFailed: 'operation.validation_failed',
  approvalRequested: 'approval.requested',
  approvalNotRequested: 'approval.not_requested',
  approvalGranted: 'approval.granted',
  approvalRejected: 'approval.rejected',
  approvalRefused: 'approval.refused',
  approvalStale: 'approval.stale',
  operationApproved: 'operation.approved',
  operationRejected: 'operation.rejected',
  operationExpired: 'operation.expired',
  stepExecuting: 'step.executing',
  stepExecuted: 'step.executed',
  stepExecutionFailed: 'step.execution_failed',
  stepVerifying: 'step.verifying',
  stepVerified: 'step.verified',
  stepVerificationFailed: 'step.verification_failed',
  stepCompensating: 'step.compensating',
  stepCompensated: 'step.compensated',
  stepCompensationFailed: 'step.compensation_failed',
  operationCompensated: 'operation.compensated',
  operationCompensationFailed: 'operation.compensation_failed',
  operationNeedsIntervention: 'operation.needs_intervention',
  operationResolved: 'operation.resolved',
  operationResolveRefused: 'operation.resolve_refused',
  operationClosed: 'operation.closed',
} as const;

/** A lifecycle event of an operation, as its record's `type`. */
export type EventType = (typeof EventType)[keyof typeof EventType];

/** Every operation event type, in the order an operation meets them. */
export const EVENT_TYPES: readonly EventType[] = Object.values(EventType);

/** Records that are not an operation's lifecycle: the ledger's own, governance, and hand-written ones. */
export const KEY_CONFLICT_TYPE = 'ledger.key_conflict';
export const GovernanceType = {
  policy: 'governance.policy',
  directory: 'governance.directory',
  /** An identity provider's public key, recorded the first time it verifies a token. */
  identityKey: 'governance.identity_key',
} as const;
/** Legal holds (docs/FORMAT.md 17): while one is in force, the values it covers cannot be erased. */
export const HoldType = {
  placed: 'hold.placed',
  released: 'hold.released',
} as const;
/** A proof of identity put to use: recorded once, so the same proof never counts twice. */
/** Personal values kept beside the ledger (docs/FORMAT.md 18): erased, refused, expired. */
export const PrivacyType = {
  erased: 'privacy.erased',
  eraseRefused: 'privacy.erase_refused',
  retentionApplied: 'retention.applied',
} as const;

export const PROOF_USED_TYPE = 'identity.proof_used';
export const MANUAL_TYPE_PREFIX = 'manual.';

const APPROVAL_PREFIX = 'approval.';
const STEP_PREFIX = 'step.';

export function isManualType(type: string): boolean {
  return type.startsWith(MANUAL_TYPE_PREFIX);
}

export function isStepEvent(type: string): boolean {
  return type.startsWith(STEP_PREFIX);
}

/** Decisions a person made, each judged against the directory and recorded whether accepted or refused. */
export const DECISION_EVENT_TYPES: ReadonlySet<string> = new Set<EventType>([
  EventType.approvalGranted,
  EventType.approvalRejected,
  EventType.approvalRefused,
  EventType.operationResolved,
  EventType.operationResolveRefused,
]);

/** How an approval round ended. */
export const APPROVAL_OUTCOME_TYPES: ReadonlySet<string> = new Set<EventType>([
  EventType.operationApproved,
  EventType.operationRejected,
  EventType.operationExpired,
]);

/**
 * The approval trail what-happened words (writ.operation_story) and the timeline page shows: every
 * `approval.*` record (any, as the SQL's `LIKE 'approval.%'`) and how the round ended.
 */
export function isApprovalTrailEvent(type: string): boolean {
  return type.startsWith(APPROVAL_PREFIX) || APPROVAL_OUTCOME_TYPES.has(type);
}

/**
 * The approvals a bundle's statement lists: the approval trail's records that someone decided, so
 * resolutions are in and an expiry (nobody's decision) is out.
 */
export function isStatementApproval(type: string): boolean {
  return (
    type.startsWith(APPROVAL_PREFIX) ||
    DECISION_EVENT_TYPES.has(type) ||
    type === EventType.operationApproved ||
    type === EventType.operationRejected
  );
}

/** A step's failures: the problem the projection shows for the step. */
export const STEP_PROBLEM_TYPES: ReadonlySet<string> = new Set<EventType>([
  EventType.stepExecutionFailed,
  EventType.stepVerificationFailed,
  EventType.stepCompensationFailed,
]);

/** A step's read-back, passed or failed. */
export const VERIFICATION_TYPES: ReadonlySet<string> = new Set<EventType>([
  EventType.stepVerified,
  EventType.stepVerificationFailed,
]);

/** Undoing what was done, and what happens when undoing fails. */
export const ROLLBACK_TYPES: ReadonlySet<string> = new Set<EventType>([
  EventType.stepCompensating,
  EventType.stepCompensated,
  EventType.stepCompensationFailed,
  EventType.operationCompensated,
  EventType.operationCompensationFailed,
  EventType.operationNeedsIntervention,
  EventType.operationResolved,
]);

/** The envelope fields every record of an operation carries. */
export interface OperationRef<Actor> {
  operationId: string;
  correlationId: string;
  traceparent: string | undefined;
  actor: Actor;
  /** The operation's chain once its plan chose one; absent: the appender places the record by its operation id. */
  chain?: string;
}

export interface EventOptions {
  stepIndex?: number;
  /** Tells apart records of one type and step: an approval round, a message's sequence number. */
  round?: number;
  payload?: Record<string, unknown>;
}

/**
 * One lifecycle record as drafted, by the workflow and by the activities alike: its key is a
 * function of the operation, type, step and round, the same on every retry, so it is written once.
 */
export function operationEventDraft<Actor>(
  ref: OperationRef<Actor>,
  type: EventType,
  state: State | null,
  options: EventOptions = {},
) {
  const stepIndex = options.stepIndex ?? null;
  return {
    type,
    ...(ref.chain === undefined ? {} : { chain: ref.chain }),
    operationId: ref.operationId,
    correlationId: ref.correlationId,
    traceparent: ref.traceparent,
    actor: ref.actor,
    stepIndex,
    state,
    idempotencyKey: workflowEventKey(ref.operationId, type, stepIndex, options.round ?? 0),
    payload: options.payload ?? {},
  };
}
