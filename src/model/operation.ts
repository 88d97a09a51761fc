import type { IdentityProof } from './identity-proof.js';
import type { GrantedApproval, ResolveInput } from './approval.js';
import type { EnvelopeRef, ValidatedEnvelope } from './envelope.js';
import type { Json } from './json.js';
import type { Outcome, State } from './lifecycle.js';
import type { SubmittedRequest } from './request.js';

/** What the workflow and its activities exchange; plain JSON, so it survives history and replay. */

export type { ResolveInput } from './approval.js';

/**
 * The state of a step's target before a write, and a version that changes whenever the target
 * does; a connector's `Snapshot`.
 */
export interface StepSnapshot {
  /** ETag, row version, file hash: compared again right before execution (stale approvals). */
  version: string;
  /** null: the target does not exist. */
  state: Json;
}

export interface PlanResult {
  ok: boolean;
  problem?: string;
  envelope: Omit<ValidatedEnvelope, 'policy'> | null;
  /** For a refused request: the identity its refusal was recorded under, for the records after it. */
  recordedAs?: EnvelopeRef;
}

export interface ValidateResult {
  ok: boolean;
  problems: string[];
  envelope: ValidatedEnvelope;
  snapshots: StepSnapshot[];
  /** Binds an approval to paramsHash + target versions + policy revision. */
  approvalDigest: string;
  contracts: Array<{ method: string; canRollback: boolean; windowMs: number }>;
  /**
   * Only when the operation will wait for approval: each step's preview, or null when the connector
   * could not give one.
   */
  planned?: Array<PlannedChange | null>;
}

/** A step's write as the workflow keeps it to verify and, if need be, undo it. */
export interface StepWrite {
  /** The target before the write: what a rollback restores. */
  before: StepSnapshot;
  /** What the target answered after the write (a dry run: `before.state`, nothing was written). */
  after: Json;
  executedAt: string;
}

/** The step was written, or in a dry run previewed. */
export interface StepExecuted extends StepWrite {
  status: 'executed';
  /** Only in a dry run: what the write would make of the target. */
  preview?: PlannedChange;
}

/**
 * Nothing was written: the target changed since it was validated and approved, or the connector
 * refused the call.
 */
export interface StepNotExecuted {
  status: 'failed';
  before: StepSnapshot;
  error: string;
}

/** What `executeStep` answers. */
export type ExecuteResult = StepExecuted | StepNotExecuted;

/** A step's target read back and compared with what the step asked; a connector's `Verification`. */
export interface VerifyResult {
  ok: boolean;
  observed: Json;
  expected: Json;
  /** Why it failed, in plain words. */
  reason?: string;
}

export interface CompensateResult {
  ok: boolean;
  restored?: Json;
  error?: string;
}

export type StepStatus =
  'pending' | 'executing' | 'executed' | 'verified' | 'failed' | 'compensated' | 'compensation_failed' | 'previewed';

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

/**
 * What a step would make of its target; a connector's `Preview`. At validation it is what an
 * approver is shown, bound to the approval digest through the target version it was read at.
 */
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
  /** The request as submitted, but a proof shows only its kind: its material is on the record, not on screens. */
  request: ShownRequest;
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

export interface OperationResult {
  operationId: string;
  outcome: Outcome;
  state: State;
  correlationId: string | null;
}

/** A request as the state query shows it. */
export type ShownRequest = Omit<SubmittedRequest, 'identity'> & { identity?: { kind: IdentityProof['kind'] } };
