import type { AcceptEarlier } from '../../ledger/appender.js';
import { canonicalBytes } from '../../verify/canonical.js';

/**
 * Records whose content may differ on retry in named payload members only: `step.executing`'s
 * `before`, read again by an attempt that may come after the first attempt's own write, and the
 * connector's `detail` of a write or rollback repeated under its idempotency key (`repeated`,
 * `attempts`). The earlier record is trusted only when the same workflow run wrote it in an
 * earlier attempt and nothing else differs; anything else under the key (another writer's,
 * another run's, this attempt's own number) is a conflict.
 */
export const ownEarlierAttempt =
  (...volatile: string[]): AcceptEarlier =>
  (earlier, draft, differences) => {
    if (!draft.workflow || differences.some((member) => member !== 'payload')) return false;
    const workflow = earlier.workflow as
      { workflowId?: unknown; runId?: unknown; activityAttempt?: unknown } | null | undefined;
    if (workflow?.workflowId !== draft.workflow.workflowId || workflow.runId !== draft.workflow.runId) return false;
    if (
      typeof workflow.activityAttempt !== 'number' ||
      !Number.isInteger(workflow.activityAttempt) ||
      workflow.activityAttempt < 1 ||
      workflow.activityAttempt >= draft.workflow.activityAttempt
    )
      return false;
    const stable = (payload: unknown) =>
      Object.fromEntries(
        Object.entries((payload ?? {}) as Record<string, unknown>).filter(([member]) => !volatile.includes(member)),
      );
    try {
      return canonicalBytes(stable(earlier.payload)).equals(canonicalBytes(stable(draft.payload)));
    } catch {
      return false;
    }
  };
