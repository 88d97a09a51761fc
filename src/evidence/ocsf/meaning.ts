import { EventType } from '../../model/events.js';
import type { Effect } from '../../model/policy.js';
import type { StepFacts } from './steps.js';
import type { Activity, Severity as SeverityT, Status as StatusT } from './vocabulary.js';
import { AccountActivity, ApiActivity, Severity, Status, otherActivity } from './vocabulary.js';

/**
 * Which ledger records become OCSF events and what each says: docs/FORMAT.md section 19 is this
 * file as a table. Every step record and every decision is exported; nothing else is.
 */

/** What a step record is about: the write itself, its read-back, or undoing it. */
export type StepPhase = 'execute' | 'verify' | 'compensate';

export interface StepMeaning {
  phase: StepPhase;
  /** The word in the event's message: "step 0 postgres.update of public.accounts/42 executed". */
  outcome: string;
  status: StatusT;
  severity: SeverityT;
}

const step = (phase: StepPhase, outcome: string, status: StatusT, severity: SeverityT): StepMeaning => ({
  phase,
  outcome,
  status,
  severity,
});

/**
 * A failed read-back means the target is not as approved (rollback follows): High. A failed
 * rollback leaves a target in a state nobody approved until someone intervenes: Critical.
 */
export const STEP_MEANINGS: ReadonlyMap<string, StepMeaning> = new Map([
  [EventType.stepExecuting, step('execute', 'executing', Status.inProgress, Severity.informational)],
  [EventType.stepExecuted, step('execute', 'executed', Status.success, Severity.informational)],
  [EventType.stepExecutionFailed, step('execute', 'failed', Status.failure, Severity.medium)],
  [EventType.stepVerifying, step('verify', 'being verified', Status.inProgress, Severity.informational)],
  [EventType.stepVerified, step('verify', 'verified', Status.success, Severity.informational)],
  [EventType.stepVerificationFailed, step('verify', 'failed verification', Status.failure, Severity.high)],
  [EventType.stepCompensating, step('compensate', 'being rolled back', Status.inProgress, Severity.low)],
  [EventType.stepCompensated, step('compensate', 'rolled back', Status.success, Severity.low)],
  [EventType.stepCompensationFailed, step('compensate', 'failed to roll back', Status.failure, Severity.critical)],
]);

export interface DecisionMeaning {
  /** The activity name (OCSF activity_id 99, Other: a decision is no CRUD call). */
  activity: string;
  /** api.operation, in Writ's words. */
  operation: string;
  /** The event's message, e.g. "bob approved operation op-1". */
  says: (who: string, operationId: string) => string;
  status: StatusT;
  severity: SeverityT;
  /** The payload member naming the person who decided; none for policy, which Writ decides. */
  decider?: 'approver' | 'by';
  deciderGroups?: 'approverGroups' | 'resolverGroups';
}

const approval = (kind: 'approve' | 'reject', status: StatusT, severity: SeverityT): DecisionMeaning => ({
  activity: kind === 'approve' ? 'Approve' : 'Reject',
  operation: `writ.${kind}`,
  says: (who, operationId) =>
    status === Status.failure
      ? `${kind === 'approve' ? 'approval' : 'rejection'} of operation ${operationId} by ${who} refused`
      : `${who} ${kind === 'approve' ? 'approved' : 'rejected'} operation ${operationId}`,
  status,
  severity,
  decider: 'approver',
  deciderGroups: 'approverGroups',
});

const resolution = (status: StatusT, severity: SeverityT): DecisionMeaning => ({
  activity: 'Resolve',
  operation: 'writ.resolve',
  says: (who, operationId) =>
    status === Status.failure
      ? `resolution of operation ${operationId} by ${who} refused`
      : `${who} resolved operation ${operationId}`,
  status,
  severity,
  decider: 'by',
  deciderGroups: 'resolverGroups',
});

const decided = { status: Status.success, severity: Severity.informational };

/** A refused attempt is someone without standing (or a bad signature) trying to decide: Medium. */
export function decisionMeaning(type: string, payload: Record<string, unknown>): DecisionMeaning | undefined {
  switch (type) {
    case EventType.policyDecided:
      return {
        activity: 'Policy Decision',
        operation: 'writ.policy.decide',
        says: (who, operationId) => `policy decided operation ${operationId} requested by ${who}`,
        ...decided,
      };
    case EventType.approvalGranted:
      return approval('approve', Status.success, Severity.informational);
    case EventType.approvalRejected:
      return approval('reject', Status.success, Severity.informational);
    case EventType.approvalRefused:
      return approval(payload.kind === 'reject' ? 'reject' : 'approve', Status.failure, Severity.medium);
    case EventType.operationResolved:
      return resolution(Status.success, Severity.informational);
    case EventType.operationResolveRefused:
      return resolution(Status.failure, Severity.medium);
    default:
      return undefined;
  }
}

const API_EFFECT: Record<Effect, Activity> = {
  create: ApiActivity.create,
  modify: ApiActivity.update,
  delete: ApiActivity.delete,
  notify: otherActivity('Notify'),
  unknown: { id: 0, name: 'Unknown' },
};

/** Undoing a create deletes, undoing a delete creates, undoing a change changes. */
const UNDONE: Record<Effect, Effect> = {
  create: 'delete',
  delete: 'create',
  modify: 'modify',
  notify: 'unknown',
  unknown: 'unknown',
};

export function apiActivity(phase: StepPhase, facts: StepFacts | undefined): Activity {
  if (phase === 'verify') return ApiActivity.read;
  const effect = facts?.effect ?? 'unknown';
  if (phase === 'compensate')
    return effect === 'notify' || effect === 'unknown' ? otherActivity('Compensate') : API_EFFECT[UNDONE[effect]];
  return API_EFFECT[effect];
}

/** Connector actions that name an account activity OCSF has a number for. */
const ACCOUNT_ACTIONS: ReadonlyMap<string, Activity> = new Map<string, Activity>([
  ['enable', AccountActivity.enable],
  ['disable', AccountActivity.disable],
  ['lock', AccountActivity.lock],
  ['password_reset', AccountActivity.passwordReset],
  ['password_change', AccountActivity.passwordChange],
]);

const ACCOUNT_EFFECT: Record<Effect, Activity> = {
  create: AccountActivity.create,
  delete: AccountActivity.delete,
  modify: otherActivity('Update'),
  notify: otherActivity('Notify'),
  unknown: { id: 0, name: 'Unknown' },
};

export function accountActivity(phase: StepPhase, facts: StepFacts): Activity {
  if (phase === 'verify') return otherActivity('Verify');
  if (phase === 'compensate')
    return facts.effect === 'notify' || facts.effect === 'unknown' || ACCOUNT_ACTIONS.has(facts.action)
      ? otherActivity('Compensate')
      : ACCOUNT_EFFECT[UNDONE[facts.effect]];
  return ACCOUNT_ACTIONS.get(facts.action) ?? ACCOUNT_EFFECT[facts.effect];
}
