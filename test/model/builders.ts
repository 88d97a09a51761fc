/**
 * Small builders for the model tests: valid requests, contracts, policies and decisions that a
 * test then changes in the one place it is about.
 */
import type { RollbackContract } from '../../src/model/contract.js';
import type { Json } from '../../src/model/json.js';
import type { Policy, PolicyDecision, PolicyInput, PolicySubject } from '../../src/model/policy.js';
import { policySchema } from '../../src/model/policy.js';
import type { OperationRequest, OperationRequestInput } from '../../src/model/request.js';
import { operationRequestSchema } from '../../src/model/request.js';

export const HOUR = 3600 * 1000;
export const DAY = 24 * HOUR;

export function step(
  connector: string,
  action: string,
  target: string,
  params: Record<string, Json> = {},
): OperationRequestInput['steps'][number] {
  return { connector, action, target, params };
}

/** A valid request input (before defaults) that tests copy and alter. */
export function requestInput(overrides: Partial<OperationRequestInput> = {}): OperationRequestInput {
  return {
    actor: { id: 'alice', kind: 'user', groups: ['sales'] },
    intent: 'raise the account tier after the renewal',
    steps: [step('crm', 'update', 'crm.accounts/42', { tier: 'gold' })],
    ...overrides,
  };
}

/** A parsed request, defaults applied, as decidePolicy receives it. */
export function request(overrides: Partial<OperationRequestInput> = {}): OperationRequest {
  return operationRequestSchema.parse(requestInput(overrides));
}

/**
 * The subject policy decides on, for model tests only: the request's steps taken as already
 * canonical (each action its own effective action, effect modify) and the request's groups taken as
 * the directory's. The worker never does this: it resolves targets and looks the groups up.
 */
export function subject(req: OperationRequest, overrides: Partial<PolicySubject> = {}): PolicySubject {
  return {
    requesterGroups: req.actor.groups,
    labels: req.labels ?? {},
    steps: req.steps.map((s) => ({
      connector: s.connector,
      action: s.action,
      effectiveAction: s.action,
      effect: 'modify',
      target: s.target,
      identity: `${s.connector}:${s.target}`,
    })),
    ...overrides,
  };
}

export function policy(input: PolicyInput): Policy {
  return policySchema.parse(input);
}

export const REVERSIBLE: RollbackContract = {
  supportsDryRun: true,
  sideEffects: 'none-on-dry-run',
  canRollback: true,
  method: 'inverse',
  windowMs: HOUR,
  limitations: '',
};

export const IRREVERSIBLE: RollbackContract = {
  supportsDryRun: true,
  sideEffects: 'none-on-dry-run',
  canRollback: false,
  method: 'none',
  windowMs: 0,
  limitations: 'an email cannot be unsent',
};

export function contract(overrides: Partial<RollbackContract> = {}): RollbackContract {
  return { ...REVERSIBLE, ...overrides };
}

export function decision(overrides: Partial<PolicyDecision> = {}): PolicyDecision {
  return {
    policyId: 'finance',
    policyRevision: 'rev-1',
    matchedRules: ['crm-accounts'],
    risk: 'high',
    approvalsRequired: 2,
    approverGroups: ['sales-leads'],
    // No explicit requirements: quorum falls back to approvalsRequired distinct approvers.
    requirements: [],
    approvalWindowMs: HOUR,
    signedApprovals: false,
    // The judges' tests are about standing, not identity: names are taken as given unless a test says otherwise.
    decisionIdentity: 'asserted',
    ssoRequired: false,
    loginWithinSeconds: null,
    reasons: ['rule crm-accounts: risk high, 2 approval(s)'],
    ...overrides,
  };
}
