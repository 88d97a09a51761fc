import type { GrantedApproval } from './approval.js';
import type { ValidatedEnvelope } from './envelope.js';
import type { Json } from './json.js';
import type { Outcome, State } from './lifecycle.js';
import type { SubmittedRequest } from './request.js';

/** What the workflow and its activities exchange; plain JSON, so it survives history and replay. */

export interface StepSnapshot {
  version: string;
  state: Json;
}

export interface PlanResult {
  ok: boolean;
  problem?: string;
  envelope: Omit<ValidatedEnvelope, 'policy'> | null;
  /** For a refused request: the identity its refusal was recorded under, for the records after it. */
  recordedAs?: Pick<ValidatedEnvelope, 'operationId' | 'correlationId' | 'traceparent' | 'actor'>;
}

export interface ValidateResult {
  ok: boolean;
  problems: string[];
  envelope: ValidatedEnvelope;
  snapshots: StepSnapshot[];
  /** Binds an approval to paramsHash + target versions + policy revision. */
  approvalDigest: string;
  contracts: Array<{ method: string; canRollback: boolean; windowMs: number }>;
  /** Only when the operation will wait for approval: each step's preview, or null when the connector could not give one. */
  planned?: Array<PlannedChange | null>;
}

export interface ExecuteResult {
  status: 'executed' | 'failed' | 'stale';
  before: StepSnapshot;
  after?: Json;
  preview?: { before: Json; after: Json; summary: string };
  executedAt?: string;
  error?: string;
  /** For a stale target: the version seen now. */
  currentVersion?: string;
}

export interface VerifyResult {
  ok: boolean;
  observed: Json;
  expected: Json;
  reason?: string;
}

export interface CompensateResult {
  ok: boolean;
  restored?: Json;
  error?: string;
}

export type StepStatus = 'pending' | 'executing' | 'executed' | 'verified' | 'failed' | 'compensated' | 'compensation_failed' | 'previewed';

export interface StepView {
  index: number;
  connector: string;
  action: string;
  target: string;
  status: StepStatus;
  before?: Json;
  after?: Json;
  verification?: VerifyResult;
  error?: string;
  /** What an approver is asked to approve: the target as validated and what the step would make of it. */
  planned?: PlannedChange | null;
}

/** A step's preview at validation, bound to the approval digest through the target version it was read at. */
export interface PlannedChange {
  before: Json;
  after: Json;
  summary: string;
}

export interface TransitionView {
  from: State | null;
  to: State;
  at: string;
  note?: string;
}

/** What the `state` query answers. */
export interface OperationState {
  operationId: string;
  state: State;
  outcome: Outcome | null;
  request: SubmittedRequest;
  envelope: ValidatedEnvelope | null;
  transitions: TransitionView[];
  approvals: {
    required: number;
    granted: GrantedApproval[];
    stillNeeded: number;
    approverGroups: string[];
    digest: string | null;
    deadline: string | null;
    refused: Array<{ approver: string; reason: string; refusal: string; at: string }>;
  };
  steps: StepView[];
  resolution: ResolveInput | null;
}

export interface ResolveInput {
  by: string;
  action: string;
  reason: string;
  /** The digest the resolver signed with the operation id (docs/FORMAT.md, signed decisions). */
  digest?: string;
  signature?: string;
}

export interface OperationResult {
  operationId: string;
  outcome: Outcome;
  state: State;
  correlationId: string | null;
}
