import type { ComplianceReport } from './build.js';
import type { ExceptionKind } from './profile.js';

/** How many exceptions of each kind the report holds, in the order the kinds are asked for. */
export function exceptionCounts(
  report: Pick<ComplianceReport, 'exceptions'>,
  kinds: readonly ExceptionKind[],
): Map<ExceptionKind, number> {
  const counts = new Map<ExceptionKind, number>(kinds.map((kind) => [kind, 0]));
  for (const e of report.exceptions) if (counts.has(e.kind)) counts.set(e.kind, counts.get(e.kind)! + 1);
  return counts;
}

/** One phrase per exception kind for people (docs/COMPLIANCE.md explains each). */
export const KIND_LABELS: Record<ExceptionKind, string> = {
  no_approval: 'no approval where one was required',
  self_approval: 'self-approval',
  approval_after_execution: 'approval after execution',
  plan_changed_after_approval: 'plan changed after approval',
  identity_not_verified: 'identity not verified',
  approver_not_eligible: 'approver not eligible',
  emergency_unreviewed: 'emergency change not reviewed',
  rollback: 'rollback',
  compensation_failed: 'failed rollback',
  manual_resolution: 'resolved by hand',
  manual_record: 'recorded by hand',
  evidence_access: 'access to the evidence',
  key_conflict: 'ledger key conflict',
};
