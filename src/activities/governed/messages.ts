import type { EventDraft } from '../ledger.js';
import type { DecisionBinding } from '../../verify/decision-signature.js';
import type { ApproverFacts } from '../../model/approval.js';
import { faultPoint } from './faults.js';
import { asActivity, toActivityFailure } from '../failures.js';
import { WritError } from '../../model/errors.js';
import type { WritDeps } from './deps.js';
import { stamped } from './events.js';
import { EventType } from '../../model/events.js';
import type { IdentityProof } from '../../model/identity-proof.js';
import { checkDecisionIdentity } from '../../identity/check-decision.js';

/** A decision's words and proof, as the workflow hands them over for its identity to be checked. */
export interface DecisionToProve {
  proof?: IdentityProof;
  /** The digest the decision names, or null (a rejection or resolution may name none). */
  digest: string | null;
  reason: string;
  /** Resolutions: what was done by hand. */
  action?: string;
}

export function createMessageActivities(deps: WritDeps) {
  return {
    /** Records lifecycle events that need no outside system: approvals, transitions, closing. */
    async recordEvents(drafts: EventDraft[]): Promise<void> {
      const closing = drafts.filter((draft) => draft.type === EventType.operationClosed);
      if (closing.length) faultPoint('before-close');
      const results = await asActivity(() => deps.appender.appendAll(drafts.map(stamped)));
      if (drafts.some((draft) => draft.type === EventType.approvalRequested)) faultPoint('after-approval-requested');
      // A closed operation should be covered by a signed checkpoint soon after, not at the next schedule.
      for (const result of results.filter((_, i) => drafts[i]!.type === EventType.operationClosed))
        deps.checkpoints?.request(result.chain);
    },

    /** The scheduled checkpoint: every chain, now. */
    async checkpointNow(): Promise<Array<{ chainId: string; size: number }>> {
      if (!deps.checkpoints) {
        const message = 'this worker has no signing key: set WRIT_SIGNING_KEY (see writ keygen)';
        throw toActivityFailure(new WritError('CONFIG', message));
      }
      const written = await deps.checkpoints.now();
      return written.map(({ chainId, size }) => ({ chainId, size }));
    },

    /**
     * What the approver directory says about a decider, and whether their signature verifies over
     * the message `binding` names (the kind of decision and the operation; docs/FORMAT.md).
     */
    async approverFacts(
      approver: string,
      digest: string,
      signature?: string,
      binding?: Omit<DecisionBinding, 'digest'>,
      decision?: DecisionToProve,
    ): Promise<ApproverFacts> {
      return asActivity(async () => {
        const facts = await deps.approvers.facts(approver, digest, signature, binding);
        if (!decision || !binding || !deps.identity) return facts;
        const expected = {
          kind: binding.kind,
          operationId: binding.operationId,
          digest: decision.digest,
          reason: decision.reason,
          ...(decision.action !== undefined ? { action: decision.action } : {}),
        };
        const identity = await checkDecisionIdentity(decision.proof, approver, expected, deps.identity);
        return { ...facts, identity };
      });
    },
  };
}
