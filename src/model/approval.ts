import type { PolicyDecision } from './policy.js';

/** An approver's decision as it arrives by signal or update. */
export interface ApprovalAttempt {
  approver: string;
  reason: string;
  /** The approval digest the approver was shown; it must be the one the operation waits for. */
  digest: string;
  /** Base64 Ed25519 signature over the digest, where the policy requires signed approvals. */
  signature?: string;
}

/** What the approver directory says about an approver (looked up by an activity). */
export interface ApproverFacts {
  known: boolean;
  groups: string[];
  /** null: no signature was given or no key is on file; true/false: checked. */
  signatureValid: boolean | null;
}

export interface GrantedApproval {
  approver: string;
  /** The approver's groups in the directory when they approved. */
  groups?: string[];
  reason: string;
  digest: string;
  signed: boolean;
  at: string;
}

export type ApprovalVerdict = { accepted: true } | { accepted: false; refusal: string };

export interface ApprovalContext {
  decision: PolicyDecision;
  requester: string;
  awaiting: boolean;
  currentDigest: string;
  granted: readonly GrantedApproval[];
}

/**
 * The approval rules, pure so the workflow decides them deterministically: the requester never
 * approves their own operation; approvers must be known and in an allowed group; the digest must
 * be the current one; one approval per approver; signed where policy says so.
 */
export function judgeApproval(attempt: ApprovalAttempt, facts: ApproverFacts, context: ApprovalContext): ApprovalVerdict {
  if (!context.awaiting) return { accepted: false, refusal: 'the operation is not awaiting approval' };
  if (attempt.approver === context.requester) return { accepted: false, refusal: 'the requester cannot approve their own operation' };
  if (!facts.known) return { accepted: false, refusal: `approver ${attempt.approver} is not in the approver directory` };
  const allowed = context.decision.approverGroups;
  if (allowed.length && !facts.groups.some((group) => allowed.includes(group))) {
    return { accepted: false, refusal: `approver ${attempt.approver} is in none of the allowed groups (${allowed.join(', ')})` };
  }
  if (attempt.digest !== context.currentDigest) {
    return { accepted: false, refusal: 'stale digest: the approval is for a different version of this operation (parameters, target or policy changed)' };
  }
  if (context.decision.signedApprovals) {
    if (!attempt.signature) return { accepted: false, refusal: 'policy requires a signed approval and none was given' };
    if (facts.signatureValid !== true) return { accepted: false, refusal: 'the signature does not verify against the approver\'s key' };
  }
  if (context.granted.some((approval) => approval.approver === attempt.approver)) {
    return { accepted: false, refusal: `approver ${attempt.approver} has already approved` };
  }
  return { accepted: true };
}

/** A rejection needs the same standing as an approval, except the digest and quorum. */
export function judgeRejection(attempt: Omit<ApprovalAttempt, 'digest'> & { digest?: string }, facts: ApproverFacts, context: ApprovalContext): ApprovalVerdict {
  if (!context.awaiting) return { accepted: false, refusal: 'the operation is not awaiting approval' };
  // The requester may always withdraw their own request.
  if (attempt.approver === context.requester) return { accepted: true };
  if (!facts.known) return { accepted: false, refusal: `approver ${attempt.approver} is not in the approver directory` };
  const allowed = context.decision.approverGroups;
  if (allowed.length && !facts.groups.some((group) => allowed.includes(group))) {
    return { accepted: false, refusal: `approver ${attempt.approver} is in none of the allowed groups (${allowed.join(', ')})` };
  }
  return { accepted: true };
}

/** How many more approvals each requirement still needs (distinct approvers from its groups). */
export function approvalsStillNeeded(decision: PolicyDecision, granted: readonly GrantedApproval[]): number {
  const requirements = decision.requirements?.length ? decision.requirements : [{ source: 'policy', required: decision.approvalsRequired, fromGroups: [] }];
  return Math.max(0, ...requirements.map((requirement) => {
    const counting = new Set(granted
      .filter((approval) => !requirement.fromGroups.length || (approval.groups ?? []).some((group) => requirement.fromGroups.includes(group)))
      .map((approval) => approval.approver));
    return Math.max(0, requirement.required - counting.size);
  }));
}

export function quorumReached(decision: PolicyDecision, granted: readonly GrantedApproval[]): boolean {
  return approvalsStillNeeded(decision, granted) === 0;
}
