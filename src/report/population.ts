import { EventType } from '../model/events.js';
import type { ReportRecord } from './read.js';

/** One accepted approval: who and when (refusals are exceptions, not approvals). */
export interface ApprovalGiven {
  by: string;
  at: string;
  seq: number;
  identityVerified: boolean;
}

/** One governed operation of the window: a row of the population. */
export interface PopulationRow {
  id: string;
  chain: string;
  intent: string | null;
  requester: string | null;
  /** The requester's identity was proved (a key, a token, single sign-on), not only asserted. */
  requesterVerified: boolean;
  /** `connector:canonical target` per step, as the plan recorded them. */
  targets: string[];
  mode: string | null;
  labels: Record<string, string>;
  risk: string | null;
  approvalsRequired: number;
  approvals: ApprovalGiven[];
  /** The request's time (`requestedAt`), else the first record's. */
  requestedAt: string;
  approvedAt: string | null;
  executedAt: string | null;
  closedAt: string | null;
  /** The closing outcome, or `open` while the operation has not closed. */
  outcome: string;
  firstSeq: number;
  lastSeq: number;
  records: number;
}

type Json = Record<string, unknown>;
const obj = (value: unknown): Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/** The records of each operation, in ledger order. */
export function byOperation(records: readonly ReportRecord[]): Map<string, ReportRecord[]> {
  const groups = new Map<string, ReportRecord[]>();
  for (const record of records) {
    if (record.operationId === null) continue;
    const list = groups.get(record.operationId) ?? [];
    list.push(record);
    groups.set(record.operationId, list);
  }
  return groups;
}

export function isVerifiedIdentity(identity: unknown): boolean {
  const id = obj(identity);
  return id.verified === true && id.channel !== 'asserted';
}

/** The first record that did something to a target for real (a dry run's preview is not a change). */
export function firstExecution(records: readonly ReportRecord[]): ReportRecord | undefined {
  return records.find((r) => r.type === EventType.stepExecuting && obj(r.payload).dryRun !== true);
}

/** Folds one operation's records into its population row. */
export function populationRow(id: string, records: readonly ReportRecord[]): PopulationRow {
  const planned = records.find((r) => r.type === EventType.operationPlanned);
  const envelope = obj(planned?.payload.envelope);
  const decision = obj(records.find((r) => r.type === EventType.policyDecided)?.payload.decision);
  const closed = records.find((r) => r.type === EventType.operationClosed);
  const approved = records.filter((r) => r.type === EventType.operationApproved).at(-1);
  const targets = Array.isArray(envelope.targets)
    ? envelope.targets.map((t) => str(obj(t).identity) ?? `${str(obj(t).connector)}:${str(obj(t).target)}`)
    : [];
  const labels = Object.fromEntries(
    Object.entries(obj(envelope.labels)).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
  const last = records.at(-1)!;
  return {
    id,
    chain: records[0]!.chain,
    intent: str(envelope.intent),
    requester: str(obj(envelope.actor).id) ?? str(planned?.actor.id) ?? null,
    requesterVerified: planned ? isVerifiedIdentity(planned.payload.identity) : false,
    targets,
    mode: str(envelope.mode),
    labels,
    risk: str(decision.risk),
    approvalsRequired: typeof decision.approvalsRequired === 'number' ? decision.approvalsRequired : 0,
    approvals: records
      .filter((r) => r.type === EventType.approvalGranted)
      .map((r) => ({
        by: str(r.payload.approver) ?? '?',
        at: r.occurredAt,
        seq: r.seq,
        identityVerified: r.payload.identityVerified === true,
      })),
    requestedAt: str(envelope.requestedAt) ?? records[0]!.occurredAt,
    approvedAt: approved?.occurredAt ?? null,
    executedAt: firstExecution(records)?.occurredAt ?? null,
    closedAt: closed?.occurredAt ?? null,
    outcome: str(closed?.payload.outcome) ?? 'open',
    firstSeq: records[0]!.seq,
    lastSeq: last.seq,
    records: records.length,
  };
}
