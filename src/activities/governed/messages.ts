import type { EventDraft } from '../ledger.js';
import type { ApproverFacts } from '../../model/approval.js';
import { faultPoint } from '../../faults.js';
import { asActivity } from './failures.js';
import type { WritDeps } from './deps.js';
import { stamped } from './events.js';

export function createMessageActivities(deps: WritDeps) {
  return {
    /** Records lifecycle events that need no outside system: approvals, transitions, closing. */
    async recordEvents(drafts: EventDraft[]): Promise<void> {
      if (drafts.some((draft) => draft.type === 'operation.closed')) faultPoint('before-close');
      await asActivity(() => deps.appender.appendAll(drafts.map(stamped)));
    },

    /** What the approver directory says about an approver, and whether their signature verifies. */
    async approverFacts(approver: string, digest: string, signature?: string): Promise<ApproverFacts> {
      return asActivity(() => deps.approvers.facts(approver, digest, signature));
    },
  };
}
