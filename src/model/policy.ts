import { z } from 'zod';
import type { RollbackContract } from './contract.js';
import { isPivot } from './contract.js';
import type { OperationRequest } from './request.js';

const RISKS = ['low', 'medium', 'high', 'critical'] as const;
export type Risk = (typeof RISKS)[number];

const stringOrList = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

const approvalsSchema = z.strictObject({
  required: z.number().int().min(0).max(10),
  fromGroups: z.array(z.string().min(1)).default([]),
  windowMs: z.number().int().min(1000).max(30 * 24 * 3600 * 1000).default(24 * 3600 * 1000),
  signed: z.boolean().default(false),
});

const ruleSchema = z.strictObject({
  name: z.string().min(1),
  match: z.strictObject({
    connector: stringOrList.optional(),
    action: stringOrList.optional(),
    /** Glob over the step's target: `*` matches any run of characters. */
    target: stringOrList.optional(),
    labels: z.record(z.string(), z.string()).optional(),
    actorGroups: z.array(z.string().min(1)).min(1).optional(),
  }).default({}),
  risk: z.enum(RISKS).default('low'),
  approvals: approvalsSchema.optional(),
  reason: z.string().optional(),
});

/** The declarative policy file (JSON). */
export const policySchema = z.strictObject({
  id: z.string().min(1).max(128),
  rules: z.array(ruleSchema).default([]),
  /** When a step cannot be rolled back, ask for this many approvals before it (0: no gate). */
  pivot: z.strictObject({
    approvals: approvalsSchema,
    risk: z.enum(RISKS).default('high'),
  }).optional(),
});
export type Policy = z.output<typeof policySchema>;
export type PolicyInput = z.input<typeof policySchema>;

/** One rule's demand: this many distinct approvers from these groups (any group when empty). */
export interface ApprovalRequirement {
  source: string;
  required: number;
  fromGroups: string[];
}

/** The decision snapshot that goes into the envelope and the ledger. */
export interface PolicyDecision {
  policyId: string;
  policyRevision: string;
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
  reasons: string[];
}

/** A policy that lets everything through: what Writ uses when no policy file is configured. */
export const OPEN_POLICY: Policy = { id: 'open', rules: [] };

function list(value: string | string[] | undefined): string[] | undefined {
  return value === undefined ? undefined : Array.isArray(value) ? value : [value];
}

export function globMatches(pattern: string, value: string): boolean {
  // dotAll: a target may contain line breaks, and `*` must still span them.
  const regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 's');
  return regex.test(value);
}

type Rule = Policy['rules'][number];

function ruleMatches(rule: Rule, request: OperationRequest): boolean {
  const m = rule.match;
  if (m.labels && !Object.entries(m.labels).every(([key, value]) => request.labels?.[key] === value)) return false;
  if (m.actorGroups && !m.actorGroups.some((group) => request.actor.groups.includes(group))) return false;
  const connectors = list(m.connector);
  const actions = list(m.action);
  const targets = list(m.target);
  return request.steps.some((step) =>
    (!connectors || connectors.includes(step.connector)) &&
    (!actions || actions.includes(step.action)) &&
    (!targets || targets.some((pattern) => globMatches(pattern, step.target))));
}

/**
 * Pure: the same request, contracts and policy always give the same decision, which is why a
 * dry run and the real run agree. Risk is the highest any matching rule gives; every approval
 * requirement of every matching rule must be met.
 */
export function decidePolicy(policy: Policy, policyRevision: string, request: OperationRequest, contracts: readonly RollbackContract[]): PolicyDecision {
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
    reasons: [],
  };
  const windows: number[] = [];
  const apply = (source: string, risk: Risk, approvals: z.output<typeof approvalsSchema> | undefined, reason: string) => {
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
    }
    decision.reasons.push(`${source}: ${reason}`);
  };
  for (const rule of policy.rules) {
    if (!ruleMatches(rule, request)) continue;
    decision.matchedRules.push(rule.name);
    apply(`rule ${rule.name}`, rule.risk, rule.approvals, rule.reason ?? `risk ${rule.risk}${rule.approvals?.required ? `, ${rule.approvals.required} approval(s)` : ''}`);
  }
  if (policy.pivot) {
    contracts.forEach((contract, index) => {
      if (!isPivot(contract)) return;
      decision.matchedRules.push(`pivot:step-${index}`);
      apply(`step ${index}`, policy.pivot!.risk, policy.pivot!.approvals, `${request.steps[index]!.connector}.${request.steps[index]!.action} cannot be rolled back (${contract.method})`);
    });
  }
  if (!decision.reasons.length) decision.reasons.push(`no rule of policy ${policy.id} matched: low risk, no approval`);
  return decision;
}
