import type { GrantedApproval } from '../../model/approval.js';
import type { OperationState } from '../../model/operation.js';
import { NOT_VERIFIED } from '../../model/identity-proof.js';

/** "alice (identity verified)" or "alice (identity not verified)": the requester as people should read them. */
export function requesterLine(state: OperationState): string {
  const actor = state.envelope?.actor;
  if (!actor) return `${state.request.actor.id} (not planned yet: ${NOT_VERIFIED})`;
  return `${actor.id} (${actor.kind}; ${actor.identity === 'verified' ? 'identity verified' : NOT_VERIFIED})`;
}

/** How an approver's identity reached Writ, as `writ status` shows each approval. */
export function approvalIdentityNote(granted: GrantedApproval): string {
  if (!granted.channel || granted.channel === 'asserted') return ` (${NOT_VERIFIED})`;
  return ` (verified: ${granted.channel})`;
}
