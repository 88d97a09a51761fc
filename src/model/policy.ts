import { z } from 'zod';
import type { RollbackContract } from './contract.js';
import { isPivot } from './contract.js';
import { globMatches } from './glob.js';

/**
 * What a step does to its target, as the connector works it out from the state before it (an
 * upsert of an existing row modifies, of a missing one creates). `unknown`: the connector does
 * not say, and a rule on `effect` matches it (fail closed).
 */
export const EFFECTS = ['create', 'modify', 'delete', 'notify', 'unknown'] as const;
export type Effect = (typeof EFFECTS)[number];

const RISKS = ['low', 'medium', 'high', 'critical'] as const;
export type Risk = (typeof RISKS)[number];

const stringOrList = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

const approvalsSchema = z.strictObject({
  required: z.number().int().min(0).max(10),
  fromGroups: z.array(z.string().min(1)).default([]),
  windowMs: z
    .number()
    .int()
    .min(1000)
    .max(30 * 24 * 3600 * 1000)
    .default(24 * 3600 * 1000),
  signed: z.boolean().default(false),
  /** Decisions must come through single sign-on in `writ serve` (a Slack button opens the page instead). */
  sso: z.boolean().default(false),
  /** Decisions must come from a login at most this many seconds old (`auth_time`); implies single sign-on. */
  loginWithinSeconds: z
    .number()
    .int()
    .min(30)
    .max(7 * 24 * 3600)
    .optional(),
});

const IDENTITY_REQUIREMENTS = ['verified', 'asserted'] as const;

/**
 * What identities must be proved. `verified` (the default) refuses a request or decision without
 * a valid proof; `asserted` is the explicit opt-out, and every record of such an operation says
 * "identity not verified".
 */
const identityPolicySchema = z
  .strictObject({
    requests: z.enum(IDENTITY_REQUIREMENTS).default('verified'),
    decisions: z.enum(IDENTITY_REQUIREMENTS).default('verified'),
  })
  .default({ requests: 'verified', decisions: 'verified' });

const LABELS_REFUSED =
  'labels are set by the requester, so a rule that needs them is dodged by leaving them out: match what Writ resolves ' +
  '(connector, action, effect, target, actorGroups from the directory), or put the labels under the rule\'s "optIn" for scrutiny a requester asks for (it can only add requirements)';

const ruleSchema = z.strictObject({
  name: z.string().min(1),
  match: z
    .strictObject({
      connector: stringOrList.optional(),
      /** The requested action or the effective one (an upsert that modifies is also an `update`). */
      action: stringOrList.optional(),
      /** What the step does to its target, worked out by the connector from the state before it. */
      effect: z.union([z.enum(EFFECTS), z.array(z.enum(EFFECTS)).min(1)]).optional(),
      /** Glob over the target as the connector resolves it (canonical): `*` matches any run of characters. */
      target: stringOrList.optional(),
      /** Refused: see LABELS_REFUSED. Declared so the refusal names the field instead of "unknown key". */
      labels: z
        .unknown()
        .optional()
        .refine((value) => value === undefined, LABELS_REFUSED),
      /** Groups of the requester as the directory lists them; never the request's own claim. */
      actorGroups: z.array(z.string().min(1)).min(1).optional(),
    })
    .default({}),
  /**
   * Requirements a requester may ask for by labelling the request: the rule applies only when every
   * label is there too. The requester controls labels, so this can add scrutiny, never be a control.
   */
  optIn: z
    .strictObject({
      labels: z.record(z.string(), z.string()).refine((v) => Object.keys(v).length > 0, 'name at least one label'),
    })
    .optional(),
  risk: z.enum(RISKS).default('low'),
  approvals: approvalsSchema.optional(),
  reason: z.string().optional(),
});

/** The declarative policy file (JSON). */
export const policySchema = z.strictObject({
  id: z.string().min(1).max(128),
  identity: identityPolicySchema,
  rules: z.array(ruleSchema).default([]),
  /** When a step cannot be rolled back, ask for this many approvals before it (0: no gate). */
  pivot: z
    .strictObject({
      approvals: approvalsSchema,
      risk: z.enum(RISKS).default('high'),
    })
    .optional(),
});
export type Policy = z.output<typeof policySchema>;
export type PolicyInput = z.input<typeof policySchema>;

/** One rule's demand: this many distinct approvers from these groups (any group when empty). */
export interface ApprovalRequirement {
  source: string;
  required: number;
  fromGroups: string[];
}

/** One step as policy sees it: resolved by its connector, never as the requester spelled it. */
export interface PolicyStep {
  connector: string;
  /** The action requested. */
  action: string;
  /** The action that does exactly what this step does (an upsert of an existing row: `update`). */
  effectiveAction: string;
  effect: Effect;
  /** The target in the connector's canonical spelling (`public.accounts/42`, `prod/x`). */
  target: string;
  /** The canonical identity (`postgres:public.accounts/42`). */
  identity: string;
}

/** Everything a decision may depend on; each field says where it comes from (README, "Policy"). */
export interface PolicySubject {
  /** The requester's groups as the directory lists them (none when they are not in it). */
  requesterGroups: readonly string[];
  /** Requester-chosen: used only by `optIn` rules, which can add requirements, never remove them. */
  labels: Readonly<Record<string, string>>;
  steps: readonly PolicyStep[];
}

/** The decision snapshot that goes into the envelope and the ledger. */
export interface PolicyDecision {
  policyId: string;
  policyRevision: string;
  /** The directory version whose groups the decision used (absent before directories were versioned). */
  directoryVersion?: string;
  matchedRules: string[];
  risk: Risk;
  /** The most any single requirement asks for: the fewest approvers that can satisfy them all. */
  approvalsRequired: number;
  /** Everyone who can count towards some requirement. */
  approverGroups: string[];
  /** Every requirement must be met on its own: one rule's approvers never stand in for another's. */
  requirements: ApprovalRequirement[];
  approvalWindowMs: number;
  signedApprovals: boolean;
  /** What decisions must prove (absent in decisions made before identities were checked: asserted). */
  decisionIdentity?: 'verified' | 'asserted';
  /** Decisions only through single sign-on, and (when set) from a login at most this many seconds old. */
  ssoRequired?: boolean;
  loginWithinSeconds?: number | null;
  reasons: string[];
}

/**
 * A policy that lets everything through: what Writ uses when no policy file is configured. With no
 * governance there is nothing to prove identities to, so they are asserted, and recorded as such.
 */
export const OPEN_POLICY: Policy = { id: 'open', identity: { requests: 'asserted', decisions: 'asserted' }, rules: [] };

function list<T extends string>(value: T | T[] | undefined): T[] | undefined {
  return value === undefined ? undefined : Array.isArray(value) ? value : [value];
}

type Rule = Policy['rules'][number];

function ruleMatches(rule: Rule, subject: PolicySubject): boolean {
  const m = rule.match;
  const has = (key: string) => Object.prototype.hasOwnProperty.call(subject.labels, key);
  if (
    rule.optIn &&
    !Object.entries(rule.optIn.labels).every(([key, value]) => has(key) && subject.labels[key] === value)
  )
    return false;
  if (m.actorGroups && !m.actorGroups.some((group) => subject.requesterGroups.includes(group))) return false;
  const connectors = list(m.connector);
  const actions = list(m.action);
  const effects = list(m.effect);
  const targets = list(m.target);
  return subject.steps.some(
    (step) =>
      (!connectors || connectors.includes(step.connector)) &&
      (!actions || actions.includes(step.action) || actions.includes(step.effectiveAction)) &&
      (!effects || step.effect === 'unknown' || effects.includes(step.effect)) &&
      (!targets || targets.some((pattern) => globMatches(pattern, step.target))),
  );
}

type Approvals = z.output<typeof approvalsSchema>;

/** What a matching rule, or a step that cannot be rolled back, demands, and why. */
interface Demand {
  /** The name it goes by in `matchedRules`. */
  matched: string;
  source: string;
  risk: Risk;
  approvals: Approvals | undefined;
  reason: string;
}

/**
 * Pure: the same request, contracts and policy always give the same decision, which is why a
 * dry run and the real run agree. Risk is the highest any matching rule gives; every approval
 * requirement of every matching rule must be met.
 */
export function decidePolicy(
  policy: Policy,
  policyRevision: string,
  subject: PolicySubject,
  contracts: readonly RollbackContract[],
): PolicyDecision {
  const decision: PolicyDecision = {
    policyId: policy.id,
    policyRevision,
    matchedRules: [],
    risk: 'low',
    approvalsRequired: 0,
    approverGroups: [],
    requirements: [],
    approvalWindowMs: 24 * 3600 * 1000,
    signedApprovals: false,
    decisionIdentity: policy.identity.decisions,
    ssoRequired: false,
    loginWithinSeconds: null,
    reasons: [],
  };
  const windows: number[] = [];
  for (const demand of [...ruleDemands(policy, subject), ...pivotDemands(policy, subject, contracts)]) {
    decision.matchedRules.push(demand.matched);
    applyDemand(decision, windows, demand);
  }
  if (!decision.reasons.length) decision.reasons.push(`no rule of policy ${policy.id} matched: low risk, no approval`);
  return decision;
}

function ruleDemands(policy: Policy, subject: PolicySubject): Demand[] {
  return policy.rules
    .filter((rule) => ruleMatches(rule, subject))
    .map((rule) => ({
      matched: rule.name,
      source: `rule ${rule.name}`,
      risk: rule.risk,
      approvals: rule.approvals,
      reason:
        rule.reason ?? `risk ${rule.risk}${rule.approvals?.required ? `, ${rule.approvals.required} approval(s)` : ''}`,
    }));
}

/** The policy's pivot demand, once for each step that cannot be rolled back. */
function pivotDemands(policy: Policy, subject: PolicySubject, contracts: readonly RollbackContract[]): Demand[] {
  const pivot = policy.pivot;
  if (!pivot) return [];
  return contracts.flatMap((contract, index) =>
    isPivot(contract)
      ? [
          {
            matched: `pivot:step-${index}`,
            source: `step ${index}`,
            risk: pivot.risk,
            approvals: pivot.approvals,
            reason: `${subject.steps[index]!.connector}.${subject.steps[index]!.action} cannot be rolled back (${contract.method})`,
          },
        ]
      : [],
  );
}

/**
 * Raises the decision to the demand: the higher risk, its approvals as one more requirement, the
 * shortest approval window of all, and signed approvals if any requirement wants them.
 */
function applyDemand(decision: PolicyDecision, windows: number[], { source, risk, approvals, reason }: Demand): void {
  if (RISKS.indexOf(risk) > RISKS.indexOf(decision.risk)) decision.risk = risk;
  if (approvals && approvals.required > 0) {
    if (approvals.required > decision.approvalsRequired) decision.approvalsRequired = approvals.required;
    decision.requirements.push({ source, required: approvals.required, fromGroups: approvals.fromGroups });
    decision.approverGroups = decision.requirements.some((r) => r.fromGroups.length === 0)
      ? []
      : [...new Set(decision.requirements.flatMap((r) => r.fromGroups))];
    windows.push(approvals.windowMs);
    decision.approvalWindowMs = Math.min(...windows);
    decision.signedApprovals ||= approvals.signed;
    decision.ssoRequired ||= approvals.sso || approvals.loginWithinSeconds !== undefined;
    if (approvals.loginWithinSeconds !== undefined)
      decision.loginWithinSeconds = Math.min(decision.loginWithinSeconds ?? Infinity, approvals.loginWithinSeconds);
  }
  decision.reasons.push(`${source}: ${reason}`);
}
