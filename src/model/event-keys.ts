/**
 * Idempotency keys are namespaced by writer, so no writer can take a key another kind of writer
 * will need (docs/FORMAT.md, "Idempotency keys"): `wf/` belongs to records a workflow's
 * activities write (and only they may use it), `manual/` to hand-written events, `ledger/` to the
 * ledger's own records, `event:` to keys generated for records that gave none.
 */
export const WORKFLOW_KEY_PREFIX = 'wf/';
export const MANUAL_KEY_PREFIX = 'manual/';
export const LEDGER_KEY_PREFIX = 'ledger/';

/** The key of one lifecycle event of an operation; the same on every retry, so it is written once. */
export function workflowEventKey(operationId: string, type: string, stepIndex: number | null, round = 0): string {
  return `${WORKFLOW_KEY_PREFIX}${operationId}/${type}/${stepIndex ?? '-'}/${round}`;
}
