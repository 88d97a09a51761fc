import { EventType, KEY_CONFLICT_TYPE, isManualType } from '../model/events.js';
import type { ReportException } from './exceptions-approval.js';
import { approvalExceptions, exceptionAt } from './exceptions-approval.js';
import type { Profile } from './profile.js';
import type { PopulationRow } from './population.js';
import type { ReportRecord } from './read.js';

export type { ReportException } from './exceptions-approval.js';

/** The record type a person files to say an emergency change was reviewed (`writ record --type review`). */
export const REVIEW_TYPE = 'manual.review';
/** A change made by hand outside Writ (`writ record --type change`). */
export const MANUAL_CHANGE_TYPE = 'manual.change';
const EVIDENCE_ACCESS = new Set(['evidence.viewed', 'evidence.downloaded']);

export interface ExceptionInput {
  profile: Profile;
  rows: readonly PopulationRow[];
  recordsOf: ReadonlyMap<string, readonly ReportRecord[]>;
  loose: readonly ReportRecord[];
  directories: ReadonlyMap<string, unknown>;
  reviews: readonly ReportRecord[];
  now: Date;
}

/** Every exception of the window, in ledger order. */
export function findExceptions(input: ExceptionInput): ReportException[] {
  const found: ReportException[] = [];
  for (const row of input.rows) {
    const records = input.recordsOf.get(row.id) ?? [];
    found.push(...approvalExceptions(row, records, input.directories));
    found.push(...rollbackExceptions(records));
    found.push(...emergencyException(row, records, input));
    for (const record of records) found.push(...recordExceptions(record));
  }
  for (const record of input.loose) found.push(...recordExceptions(record));
  return found.sort((a, b) => (a.chain === b.chain ? a.seq - b.seq : a.chain < b.chain ? -1 : 1));
}

function rollbackExceptions(records: readonly ReportRecord[]): ReportException[] {
  const found: ReportException[] = [];
  const began = records.find((r) => r.type === EventType.stepCompensating);
  if (began) {
    const compensated = records.filter((r) => r.type === EventType.stepCompensated).length;
    const closed = records.find((r) => r.type === EventType.operationClosed);
    const outcome = closed ? String(closed.payload.outcome) : 'still open';
    found.push(
      exceptionAt('rollback', began, `rollback began: ${compensated} step(s) compensated; outcome ${outcome}`),
    );
  }
  for (const record of records) {
    if (record.type === EventType.stepCompensationFailed)
      found.push(
        exceptionAt(
          'compensation_failed',
          record,
          `step ${record.stepIndex ?? '?'}: the rollback failed: ${String(record.payload.error ?? record.payload.reason ?? 'no reason recorded')}`,
        ),
      );
    if (record.type === EventType.operationResolved)
      found.push(
        exceptionAt(
          'manual_resolution',
          record,
          `resolved by hand by ${String(record.payload.by ?? '?')}: ${String(record.payload.action ?? '')} (${String(record.payload.reason ?? '')})`,
        ),
      );
  }
  return found;
}

/** Records that are exceptions whatever operation they belong to: by hand, reads of evidence, conflicts. */
function recordExceptions(record: ReportRecord): ReportException[] {
  if (isManualType(record.type) && record.type !== REVIEW_TYPE) {
    const details = (record.payload.details ?? {}) as Record<string, unknown>;
    const message = String(record.payload.message ?? '');
    const found = [
      exceptionAt('manual_record', record, `${record.type} by ${String(record.actor.id ?? '?')}: ${message}`),
    ];
    if (record.type === MANUAL_CHANGE_TYPE && typeof details.approvedBy !== 'string')
      found.push(
        exceptionAt(
          'no_approval',
          record,
          `a change made by hand outside Writ by ${String(record.actor.id ?? '?')} names no approval (details.approvedBy): ${message}`,
        ),
      );
    return found;
  }
  if (EVIDENCE_ACCESS.has(record.type)) {
    const p = record.payload;
    return [
      {
        ...exceptionAt(
          'evidence_access',
          record,
          `${String(p.requester ?? record.actor.id ?? '?')} ${record.type === 'evidence.viewed' ? 'viewed' : 'downloaded'} the ${String(p.format ?? '')} of ${String(p.id ?? '?')} via ${String(p.via ?? '?')}`,
        ),
        // The evidence read is about the id in its payload; linking there shows what was read.
        operationId: typeof p.id === 'string' ? p.id : null,
      },
    ];
  }
  if (record.type === KEY_CONFLICT_TYPE)
    return [
      exceptionAt(
        'key_conflict',
        record,
        `a different record was written under the key ${String(record.payload.idempotencyKey ?? '?')} (refused and recorded)`,
      ),
    ];
  return [];
}

/**
 * An emergency change (the profile's label on the request) must be reviewed, on the record, within
 * the profile's hours of its close (of its request while open).
 */
function emergencyException(
  row: PopulationRow,
  records: readonly ReportRecord[],
  input: ExceptionInput,
): ReportException[] {
  const { key, value } = input.profile.settings.emergencyLabel;
  if (row.labels[key] !== value) return [];
  const hours = input.profile.settings.emergencyReviewHours;
  const from = new Date(row.closedAt ?? row.requestedAt);
  const due = new Date(from.getTime() + hours * 3600_000);
  const reviews = input.reviews.filter((r) => r.operationId === row.id);
  if (reviews.some((r) => new Date(r.occurredAt) <= due)) return [];
  const anchor = records.find((r) => r.type === EventType.operationClosed) ?? records[0]!;
  const late = reviews[0];
  const why = late
    ? `reviewed late, at ${late.occurredAt} by ${String(late.actor.id ?? '?')} (due ${due.toISOString()})`
    : due < input.now
      ? `no ${REVIEW_TYPE} record within ${hours} h (due ${due.toISOString()})`
      : `not reviewed yet: a ${REVIEW_TYPE} record is due by ${due.toISOString()}`;
  return [exceptionAt('emergency_unreviewed', anchor, `emergency change (labels.${key} = "${value}"): ${why}`)];
}
