import type { TargetIdentity } from '../../model/envelope.js';

/** One of an operation's latest events, as writ.operation_story() words it from the records. */
export interface RecentEvent {
  seq: number;
  type: string;
  state: string | null;
  stepIndex: number | null;
  /** occurredAt: the writer's clock, covered by the hash. */
  at: string;
  /** The id of the record's actor: for workflow events, the requester. */
  actor: string | null;
  summary: string | null;
}

/** Where one step of an operation got to. */
export interface StepOutcome {
  index: number;
  /** The last step.* event for this step (undefined when only notes mention it). */
  last?: string;
  /** occurredAt of the latest record about this step. */
  at?: string;
  /** What the step changed (or would change, in a dry run), e.g. `tier: "silver" -> "gold"`. */
  change?: string;
  problem?: string;
}

/** A step's target as the `operation.planned` envelope recorded it. */
export type PlannedTarget = TargetIdentity;

/** A decision or a turn in the approval story: requested, granted, refused, stale, approved... */
export interface ApprovalEvent {
  seq: number;
  type: string;
  at: string;
  by: string | null;
  summary: string | null;
}

export interface OperationSummary {
  operationId: string;
  chainId: string;
  correlationId: string | null;
  /** Who asked: the actor of operation.planned (null when no request was planned under this id). */
  actor: { id: string; kind: string; groups: string[]; identity?: string } | null;
  /** Why: the request's intent (null when the request never got as far as a plan). */
  intent: string | null;
  mode: string | null;
  targets: PlannedTarget[];
  policy: { id: string | null; risk: string | null; approvalsRequired: number | null };
  firstSeq: number;
  lastSeq: number;
  startedAt: string;
  lastEventAt: string;
  closedAt: string | null;
  /** From the first record to the close (or to the latest record while it is open). */
  durationMs: number;
  /** The last lifecycle state entered. */
  state: string | null;
  /** Set when the operation closed: succeeded, rolled_back, rejected, ... */
  outcome: string | null;
  open: boolean;
  lastEventType: string;
  stepCount: number;
  steps: StepOutcome[];
  events: number;
  approvals: {
    granted: number;
    refused: number;
    rejected: number;
    stale: number;
    /** The latest approval events, oldest first (at most 20). */
    trail: ApprovalEvent[];
  };
  /** Steps rolled back, and rollbacks that failed. */
  compensations: number;
  compensationFailures: number;
  manualEvents: number;
  /** The latest events, oldest first (at most 10). */
  recent: RecentEvent[];
}

export interface WhatHappened {
  id: string;
  /** The id named an operation, or was a correlation id shared by the operations listed. */
  matchedBy: 'operation' | 'correlation';
  operations: OperationSummary[];
}

/** One ledger record, read from writ.records, with the same one-line summary the projection uses. */
export interface TimelineEvent {
  chainId: string;
  seq: number;
  eventId: string;
  hash: string;
  type: string;
  operationId: string | null;
  correlationId: string | null;
  stepIndex: number | null;
  state: string | null;
  actor: { id: string; kind: string; groups: string[] };
  occurredAt: string;
  /** The database clock at insert: not covered by the hash. */
  recordedAt: string;
  summary: string | null;
  payload: Record<string, unknown>;
}
