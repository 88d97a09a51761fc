import { csvRow } from '../../verify/bundle/format.js';
import { EventType } from '../../model/events.js';
import { obj } from './json-object.js';
import type { BundleRecord } from './select.js';

const CSV_HEADER = [
  'operation',
  'seq',
  'occurredAt',
  'type',
  'state',
  'actor',
  'step',
  'target',
  'before',
  'after',
  'approver',
  'approverDiffersFromRequester',
];
const SUMMARY_LIMIT = 300;

function summary(value: unknown): string {
  if (value === undefined) return '';
  const text = JSON.stringify(value) ?? '';
  return text.length > SUMMARY_LIMIT ? `${text.slice(0, SUMMARY_LIMIT - 1)}…` : text;
}

/**
 * One row per record (each is one change of the operation), for sampling; the canonical bytes stay the
 * evidence. `writ serve` offers the same file as its CSV download.
 */
export function recordsCsv(records: BundleRecord[]): string {
  const targets = new Map<string, unknown[]>();
  for (const r of records) {
    if (r.record.type === EventType.operationPlanned && typeof r.record.operationId === 'string') {
      const list = obj(obj(r.record.payload).envelope).targets;
      if (Array.isArray(list)) targets.set(r.record.operationId, list);
    }
  }
  let out = csvRow(CSV_HEADER);
  for (const r of records) {
    const rec = r.record;
    const p = obj(rec.payload);
    const step = typeof rec.stepIndex === 'number' ? rec.stepIndex : null;
    const target = step === null ? null : obj((targets.get(String(rec.operationId)) ?? [])[step] ?? p.target);
    const wouldChange = obj(p.wouldChange);
    const before = p.before ?? wouldChange.before ?? p.restoring;
    const after = p.after ?? wouldChange.after ?? p.restored;
    const approver =
      typeof p.approver === 'string' ? p.approver : Array.isArray(p.approvers) ? p.approvers.join(' ') : '';
    const differs =
      typeof p.approverDiffersFromRequester === 'boolean' ? (p.approverDiffersFromRequester ? 'yes' : 'no') : 'n/a';
    out += csvRow([
      String(rec.operationId ?? ''),
      String(r.seq),
      String(rec.occurredAt ?? ''),
      String(rec.type ?? ''),
      String(rec.state ?? ''),
      String(obj(rec.actor).id ?? ''),
      step === null ? '' : String(step),
      target ? String(target.identity ?? target.target ?? '') : '',
      summary(before),
      summary(after),
      approver,
      differs,
    ]);
  }
  return out;
}
