import { z } from 'zod';
import { canonicalId, sameIdentity } from './identity.js';
import type { PolicyDecision } from './policy.js';
import type { IdentityCheck } from './identity-proof.js';
import { identityProofSchema } from './identity-proof.js';

const DIGEST = /^[0-9a-f]{64}$/;
const DIGEST_PROBLEM = 'digest must be the 64-hex approval digest shown by `writ status`';

// Built on first use (z.lazy): the sandbox re-runs this module per workflow; few receive a decision.
/**
 * An approver's decision as it arrives by signal or update. Ids are only checked for shape here:
 * whether an id names anyone is judged, and recorded, by the workflow.
 */
export const approvalAttemptSchema = z.lazy(() =>
  z.strictObject({
    approver: z.string().min(1, 'approver must name who approves').max(256),
    reason: z.string().trim().min(1, 'reason must say why').max(2000),
    /** The approval digest the approver was shown; it must be the one the operation waits for. */
    digest: z.string().regex(DIGEST, DIGEST_PROBLEM),
    /** Base64 Ed25519 signature over the decision message (docs/FORMAT.md), where policy requires signed approvals. */
    signature: z.string().min(1).max(512).optional(),
    /** Proof of who decides (model/identity-proof.ts); a `signature` alone is a key proof. */
    proof: identityProofSchema.optional(),
  }),
);
export type ApprovalAttempt = z.output<typeof approvalAttemptSchema>;

/** A rejection: the same standing as an approval; the digest is needed only to sign it. */
export const rejectionAttemptSchema = z.lazy(() =>
  z.strictObject({
    approver: z.string().min(1, 'approver must name who rejects').max(256),
    reason: z.string().trim().min(1, 'reason must say why').max(2000),
    digest: z.string().regex(DIGEST, DIGEST_PROBLEM).optional(),
    signature: z.string().min(1).max(512).optional(),
    proof: identityProofSchema.optional(),
  }),
);
export type RejectionAttempt = z.output<typeof rejectionAttemptSchema>;

/** A manual resolution of an operation that needs intervention, as it arrives by signal or update. */
export const resolveInputSchema = z.lazy(() =>
  z.strictObject({
    by: z.string().min(1, 'by must name who resolved it').max(256),
    action: z.string().trim().min(1, 'action must say what was done').max(4000),
    reason: z.string().trim().min(1, 'reason must say why').max(2000),
    /** The digest the resolver signed with the operation id (docs/FORMAT.md, signed decisions). */
    digest: z.string().regex(DIGEST, DIGEST_PROBLEM).optional(),
    signature: z.string().min(1).max(512).optional(),
    proof: identityProofSchema.optional(),
  }),
);
export type ResolveInput = z.output<typeof resolveInputSchema>;

/** What the approver directory says about a decider (looked up by an activity). */
export interface ApproverFacts {
  known: boolean;
  groups: string[];
  /** null: no signature was given; true/false: checked against the key on file (false when there is none). */
  signatureValid: boolean | null;
  /** Hex SHA-256 of the decider's public key in the directory; null or absent: no key on file. */
  keyId?: string | null;
  /** The directory's resolver groups, when it names any. */
  resolverGroups?: string[];
  /** The directory version that answered (`sha256:<hex>`), on the record as `governance.directory`. */
  directoryVersion?: string;
  /** What the decision's proof of identity established (absent: no identity check ran). */
  identity?: IdentityCheck;
}

export interface GrantedApproval {
  approver: string;
  /** The approver's groups in the directory when they approved. */
  groups?: string[];
  reason: string;
  digest: string;
  signed: boolean;
  /** The signature as given (base64), and the id of the key it verified with. */
  signature?: string | null;
  keyId?: string | null;
  /** How the approver's identity reached Writ (absent on approvals made before identities were checked). */
  channel?: IdentityCheck['channel'];
  at: string;
}

export type ApprovalVerdict = { accepted: true } | { accepted: false; refusal: string };

export interface ApprovalContext {
  decision: PolicyDecision;
  /** The requester's canonical id, from the envelope. */
  requester: string;
  awaiting: boolean;
  currentDigest: string;
  granted: readonly GrantedApproval[];
}

export interface ResolutionContext {
  /** null before the operation was validated (it cannot need intervention then). */
  decision: PolicyDecision | null;
  needsIntervention: boolean;
  alreadyResolved: boolean;
  state: string;
  currentDigest: string;
}

const refuse = (refusal: string): ApprovalVerdict => ({ accepted: false, refusal });

/** The id a decision names, canonical, or why it names no one. */
function decider(raw: unknown, role: string): { id: string } | { refusal: string } {
  const canonical = canonicalId(raw);
  return canonical.ok ? { id: canonical.id } : { refusal: `the ${role} is not a usable id: ${canonical.problem}` };
}

function groupRefusal(
  who: string,
  facts: ApproverFacts,
  allowed: readonly string[],
  what = 'allowed groups',
): ApprovalVerdict | null {
  if (allowed.length && !facts.groups.some((group) => allowed.includes(group)))
    return refuse(`${who} is in none of the ${what} (${allowed.join(', ')})`);
  return null;
}

/**
 * Where policy requires signed approvals, every decision must carry a signature that verifies; a
 * signature given where none is required must verify too, or the ledger would hold an accepted
 * decision whose evidence an auditor's check refutes.
 */
function signatureRefusal(
  decision: PolicyDecision,
  signature: string | undefined,
  facts: ApproverFacts,
  what: string,
): ApprovalVerdict | null {
  if (!signature)
    return decision.signedApprovals ? refuse(`policy requires a signed ${what} and none was given`) : null;
  if (facts.signatureValid !== true) return refuse("the signature does not verify against the approver's key");
  return null;
}

/**
 * What policy asks of a decider's identity: a proof that verified and names the decider, through
 * single sign-on where a rule says so, from a login fresh enough where a rule says so. A proof
 * that fails refuses the decision even where identities may be asserted.
 */
function identityRefusal(
  decision: PolicyDecision,
  identity: IdentityCheck | undefined,
  who: string,
): ApprovalVerdict | null {
  if (identity?.problem) return refuse(`the proof of identity is refused: ${identity.problem}`);
  if (!identity?.verified) {
    if (decision.ssoRequired)
      return refuse('policy requires this decision to come through single sign-on (writ serve)');
    if (decision.decisionIdentity === 'verified')
      return refuse(
        'policy requires a verified identity for decisions, and this one proves none: decide through writ serve (single sign-on), Slack, or with your key (writ approve --key)',
      );
    return null;
  }
  if (identity.id !== who) return refuse(`the proof is ${identity.id ?? 'nobody'}'s, and the decision names ${who}`);
  if (decision.ssoRequired && identity.channel !== 'sso')
    return refuse(`policy requires single sign-on for this decision, and it came by ${identity.channel}`);
  const within = decision.loginWithinSeconds;
  if (within !== undefined && within !== null) {
    if (identity.authTime === undefined || identity.at === undefined)
      return refuse(
        'policy requires a fresh login, and the identity provider did not say when the login was (auth_time)',
      );
    const age = identity.at - identity.authTime;
    if (age > within) return refuse(`policy requires a login at most ${within} s old, and this one was ${age} s old`);
  }
  return null;
}

/**
 * The approval rules, pure so the workflow decides them deterministically: the requester never
 * approves their own operation, under any spelling; approvers must be known and in an allowed
 * group; the digest must be the current one; one approval per person; signed where policy says so.
 */
export function judgeApproval(
  attempt: ApprovalAttempt,
  facts: ApproverFacts,
  context: ApprovalContext,
): ApprovalVerdict {
  if (!context.awaiting) return refuse('the operation is not awaiting approval');
  const who = decider(attempt.approver, 'approver');
  if ('refusal' in who) return refuse(who.refusal);
  if (sameIdentity(who.id, context.requester)) return refuse('the requester cannot approve their own operation');
  const unproved = identityRefusal(context.decision, facts.identity, who.id);
  if (unproved) return unproved;
  if (!facts.known) return refuse(`approver ${who.id} is not in the approver directory`);
  const outside = groupRefusal(`approver ${who.id}`, facts, context.decision.approverGroups);
  if (outside) return outside;
  if (attempt.digest !== context.currentDigest) {
    return refuse(
      'stale digest: the approval is for a different version of this operation (parameters, target or policy changed)',
    );
  }
  const unsigned = signatureRefusal(context.decision, attempt.signature, facts, 'approval');
  if (unsigned) return unsigned;
  if (context.granted.some((approval) => sameIdentity(approval.approver, who.id)))
    return refuse(`approver ${who.id} has already approved`);
  return { accepted: true };
}

/**
 * A rejection is a decision like an approval: a known directory person in an allowed group, signed
 * where policy requires signed approvals. The requester may withdraw their own request, but only
 * as the directory person they are (and signed where required): claiming to be the requester is
 * not standing.
 */
export function judgeRejection(
  attempt: RejectionAttempt,
  facts: ApproverFacts,
  context: ApprovalContext,
): ApprovalVerdict {
  if (!context.awaiting) return refuse('the operation is not awaiting approval');
  const who = decider(attempt.approver, 'rejecter');
  if ('refusal' in who) return refuse(who.refusal);
  const withdrawing = sameIdentity(who.id, context.requester);
  const unproved = identityRefusal(context.decision, facts.identity, who.id);
  if (unproved) return unproved;
  if (!facts.known) {
    return refuse(
      withdrawing
        ? `the requester ${who.id} may withdraw only as a person in the approver directory, and is not in it`
        : `approver ${who.id} is not in the approver directory`,
    );
  }
  if (!withdrawing) {
    const outside = groupRefusal(`approver ${who.id}`, facts, context.decision.approverGroups);
    if (outside) return outside;
  }
  // A "no" to an earlier version of this operation is still a "no": the digest only says what was signed.
  if (context.decision.signedApprovals && attempt.signature && attempt.digest === undefined)
    return refuse('a signed rejection must name the digest it signs');
  return signatureRefusal(context.decision, attempt.signature, facts, 'rejection') ?? { accepted: true };
}

/**
 * A manual resolution closes an operation nobody could roll back, so it needs standing: a known
 * directory person in the directory's resolver groups (or, when it names none, the operation's
 * approver groups; any directory person when those are empty too), signed where policy requires
 * signed approvals.
 */
export function judgeResolution(
  attempt: ResolveInput,
  facts: ApproverFacts,
  context: ResolutionContext,
): ApprovalVerdict {
  if (context.alreadyResolved) return refuse('the operation was already resolved');
  if (!context.needsIntervention) return refuse(`the operation is ${context.state}, not needs_intervention`);
  const who = decider(attempt.by, 'resolver');
  if ('refusal' in who) return refuse(who.refusal);
  if (!facts.known) return refuse(`resolver ${who.id} is not in the approver directory`);
  if (!context.decision) return refuse('the operation has no policy decision to resolve under');
  const unproved = identityRefusal(context.decision, facts.identity, who.id);
  if (unproved) return unproved;
  const outside = groupRefusal(
    `resolver ${who.id}`,
    facts,
    facts.resolverGroups ?? context.decision.approverGroups,
    'groups that may resolve',
  );
  if (outside) return outside;
  if (attempt.digest !== undefined && attempt.digest !== context.currentDigest) {
    return refuse('stale digest: the resolution names a different version of this operation');
  }
  if (context.decision.signedApprovals && attempt.signature && attempt.digest === undefined)
    return refuse('a signed resolution must name the digest it signs');
  return signatureRefusal(context.decision, attempt.signature, facts, 'resolution') ?? { accepted: true };
}

/** How many more approvals each requirement still needs (distinct approvers from its groups). */
export function approvalsStillNeeded(decision: PolicyDecision, granted: readonly GrantedApproval[]): number {
  const requirements = decision.requirements?.length
    ? decision.requirements
    : [{ source: 'policy', required: decision.approvalsRequired, fromGroups: [] }];
  return Math.max(
    0,
    ...requirements.map((requirement) => {
      const counting = new Set(
        granted
          .filter(
            (approval) =>
              !requirement.fromGroups.length ||
              (approval.groups ?? []).some((group) => requirement.fromGroups.includes(group)),
          )
          .map((approval) => approval.approver),
      );
      return Math.max(0, requirement.required - counting.size);
    }),
  );
}

export function quorumReached(decision: PolicyDecision, granted: readonly GrantedApproval[]): boolean {
  return approvalsStillNeeded(decision, granted) === 0;
}
