import { EventType } from '../model/events.js';
import { sameIdentity } from '../model/identity.js';
import type { ExceptionKind } from './profile.js';
import type { PopulationRow } from './population.js';
import { firstExecution, isVerifiedIdentity } from './population.js';
import type { ReportRecord } from './read.js';

/** One exception, filed under the record that shows it (and its operation, when it has one). */
export interface ReportException {
  kind: ExceptionKind;
  operationId: string | null;
  chain: string;
  seq: number;
  at: string;
  detail: string;
}

type Json = Record<string, unknown>;
const obj = (value: unknown): Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

export function exceptionAt(kind: ExceptionKind, record: ReportRecord, detail: string): ReportException {
  return { kind, operationId: record.operationId, chain: record.chain, seq: record.seq, at: record.occurredAt, detail };
}

const ACCEPTED_DECISIONS = new Set<string>([
  EventType.approvalGranted,
  EventType.approvalRejected,
  EventType.operationResolved,
]);

/**
 * The approval trail of one operation, judged as a change-management control would: was it approved
 * where policy said so, before it ran, by someone else who was allowed to, against what was run, by
 * people whose identity was proved.
 */
export function approvalExceptions(
  row: PopulationRow,
  records: readonly ReportRecord[],
  directories: ReadonlyMap<string, unknown>,
): ReportException[] {
  const found: ReportException[] = [];
  const decided = records.find((r) => r.type === EventType.policyDecided);
  const decision = obj(decided?.payload.decision);
  const executed = firstExecution(records);
  const approved = records.find((r) => r.type === EventType.operationApproved);
  if (
    executed &&
    row.approvalsRequired > 0 &&
    (!approved || approved.seq > executed.seq) &&
    !anyGrantBefore(records, executed)
  )
    found.push(
      exceptionAt(
        'no_approval',
        executed,
        `policy required ${row.approvalsRequired} approval(s) (risk ${row.risk ?? 'unknown'}) and the change ran with none on record`,
      ),
    );
  for (const record of records) {
    if (
      executed &&
      record.seq > executed.seq &&
      (record.type === EventType.approvalGranted || record.type === EventType.operationApproved)
    )
      found.push(
        exceptionAt(
          'approval_after_execution',
          record,
          `${record.type} recorded after the change began executing (record ${executed.seq})`,
        ),
      );
    found.push(...selfApproval(row, record), ...stale(record), ...identity(record));
    if (record.type === EventType.approvalGranted) found.push(...eligibility(record, decision, directories));
  }
  return found;
}

function anyGrantBefore(records: readonly ReportRecord[], executed: ReportRecord): boolean {
  return records.some((r) => r.type === EventType.approvalGranted && r.seq < executed.seq);
}

function selfApproval(row: PopulationRow, record: ReportRecord): ReportException[] {
  if (record.type !== EventType.approvalGranted && record.type !== EventType.approvalRefused) return [];
  if (record.payload.kind === 'reject') return [];
  const approver = record.payload.approver;
  const self = record.payload.approverDiffersFromRequester === false || sameIdentity(approver, row.requester);
  if (!self) return [];
  return [
    exceptionAt(
      'self_approval',
      record,
      record.type === EventType.approvalGranted
        ? `the requester ${String(approver)} approved their own change, and the approval was counted`
        : `the requester ${String(approver)} tried to approve their own change; refused: ${String(record.payload.refusal ?? '')}`,
    ),
  ];
}

function stale(record: ReportRecord): ReportException[] {
  if (record.type === EventType.approvalStale)
    return [
      exceptionAt(
        'plan_changed_after_approval',
        record,
        'what was approved changed before execution (target version or policy revision): the approval was set aside and approval asked again',
      ),
    ];
  if (record.type === EventType.stepExecutionFailed && record.payload.stale === true)
    return [
      exceptionAt(
        'plan_changed_after_approval',
        record,
        `step ${record.stepIndex ?? '?'}: the target changed after approval (version ${String(record.payload.expectedVersion)}, found ${String(record.payload.foundVersion)}); nothing was written`,
      ),
    ];
  return [];
}

function identity(record: ReportRecord): ReportException[] {
  if (record.type === EventType.operationPlanned && !isVerifiedIdentity(record.payload.identity))
    return [
      exceptionAt(
        'identity_not_verified',
        record,
        `the requester ${String(record.actor.id ?? '?')} was not proved (identity asserted${problemOf(record.payload.identity)})`,
      ),
    ];
  if (ACCEPTED_DECISIONS.has(record.type) && record.payload.identityVerified !== true) {
    const who = record.payload.approver ?? record.payload.by;
    return [
      exceptionAt(
        'identity_not_verified',
        record,
        `${record.type} by ${String(who ?? '?')} counted with identity not verified${problemOf(record.payload.identity)}`,
      ),
    ];
  }
  return [];
}

function problemOf(identity: unknown): string {
  const problem = obj(identity).problem;
  return typeof problem === 'string' ? `: ${problem}` : '';
}

/** Standing under the directory version in force when the approval was judged (FORMAT 13.1). */
function eligibility(
  record: ReportRecord,
  decision: Json,
  directories: ReadonlyMap<string, unknown>,
): ReportException[] {
  const approver = String(record.payload.approver ?? '?');
  const version = record.payload.directoryVersion ?? decision.directoryVersion;
  const refuse = (why: string) => [exceptionAt('approver_not_eligible', record, `${approver}: ${why}`)];
  if (typeof version !== 'string') return refuse('no directory version on record: who could approve cannot be checked');
  const directory = directories.get(version);
  if (directory === undefined) return refuse(`the directory version ${version} it names is not in the ledger`);
  const person = list(obj(directory).approvers).find((p) => sameIdentity(obj(p).id, approver));
  if (!person) return refuse(`not an approver in the directory in force (${version.slice(0, 19)}…)`);
  const allowed = list(decision.approverGroups).filter((g): g is string => typeof g === 'string');
  const groups = list(obj(person).groups);
  if (allowed.length && !groups.some((g) => allowed.includes(String(g))))
    return refuse(`in none of the allowed groups (${allowed.join(', ')}) in the directory in force`);
  return [];
}
