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
