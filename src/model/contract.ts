/** What a connector action promises about dry runs and undoing itself (DESIGN.md section 1). */
export interface RollbackContract {
  supportsDryRun: boolean;
  sideEffects: 'none' | 'none-on-dry-run' | 'some';
  canRollback: boolean;
  method: 'inverse' | 'snapshot-restore' | 'compensate' | 'none';
  /** How long after execution a rollback is still valid. */
  windowMs: number;
  limitations: string;
}

/** A pivot cannot be undone: policy may demand approval before it, and a failure after it needs a human. */
export function isPivot(contract: RollbackContract): boolean {
  return contract.method === 'none' || !contract.canRollback;
}

/** A dry run refuses an action that cannot promise to have no side effect. */
export function dryRunRefusal(contract: RollbackContract): string | null {
  if (!contract.supportsDryRun) return 'the action does not support dry runs';
  if (contract.sideEffects === 'some') return 'the action has side effects even on a dry run';
  return null;
}

/** A rollback asked for after the contract's window is refused with the reason. */
export function rollbackWindowRefusal(contract: RollbackContract, executedAt: string, now: Date): string | null {
  const age = now.getTime() - Date.parse(executedAt);
  return age > contract.windowMs
    ? `the rollback window of ${contract.windowMs} ms has passed (executed ${age} ms ago)`
    : null;
}
