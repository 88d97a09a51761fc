import { csvRow } from '../verify/bundle/format.js';
import type { ComplianceReport } from './build.js';

const HEADER = [
  'operation',
  'chain',
  'intent',
  'requester',
  'requesterVerified',
  'targets',
  'mode',
  'risk',
  'approvalsRequired',
  'approvals',
  'requestedAt',
  'approvedAt',
  'executedAt',
  'closedAt',
  'outcome',
  'exceptions',
  'firstSeq',
  'lastSeq',
  'whatHappened',
];

/**
 * The population, one row per operation, for sampling in a spreadsheet (RFC 4180, CRLF). Cells a
 * spreadsheet would run as a formula are prefixed with `'`, as in the bundle's CSV (FORMAT 10.4).
 */
export function renderCsv(report: ComplianceReport): string {
  let out = csvRow(HEADER);
  for (const row of report.population) {
    out += csvRow([
      row.id,
      row.chain,
      row.intent ?? '',
      row.requester ?? '',
      row.requesterVerified ? 'yes' : 'no',
      row.targets.join(' '),
      row.mode ?? '',
      row.risk ?? '',
      String(row.approvalsRequired),
      row.approvals.map((a) => `${a.by} ${a.at}`).join('; '),
      row.requestedAt,
      row.approvedAt ?? '',
      row.executedAt ?? '',
      row.closedAt ?? '',
      row.outcome,
      row.exceptions.join(' '),
      String(row.firstSeq),
      String(row.lastSeq),
      row.whatHappened.url ?? row.whatHappened.command,
    ]);
  }
  return out;
}
