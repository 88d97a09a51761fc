import { canonicalId } from '../../model/identity.js';
import { EventType, PROOF_USED_TYPE } from '../../model/events.js';
import type { DecisionKind } from '../decision-signature.js';
import { governanceContent } from './governance.js';
import { RecordedDirectories } from './identity-directory.js';
import { RecordedProviderKeys } from './identity-keys.js';
import type { ProofClaim, ProofContext } from './identity-proofs.js';
import { recheckProof } from './identity-proofs.js';
import type { ParsedRecord, Report } from './parse.js';
import { isObject } from './parse.js';

/**
 * Proofs of identity in a bundle (docs/FORMAT.md, "Identity proofs"), re-checked offline: every
 * record that says a proof established who asked or decided is checked again from the proof it
 * carries, against the directory it names, the provider keys on record and the channel keys the
 * auditor pinned. Identities that were only asserted are reported, not failed: policy may allow them.
 */
export const NOT_VERIFIED_CODE = 'IDENTITY_NOT_VERIFIED';

export interface IdentityNotice {
  code: typeof NOT_VERIFIED_CODE;
  seq: number;
  operationId: string;
  problem: string;
}

export interface IdentitySummary {
  /** Records whose proof of identity was re-checked and holds. */
  verified: number;
  /** Requests that went on and decisions that counted with an identity only asserted. */
  notVerified: number;
  /** True when channel assertions were checked against channel keys the auditor pinned. */
  channelKeysPinned: boolean;
}

export interface IdentityOptions {
  /** Writ channel keys the auditor pinned (their key ids); absent: the recorded directory's. */
  pinnedChannels?: ReadonlyArray<{ keyId: string }>;
}

type Json = Record<string, unknown>;
const obj = (value: unknown): Json => (isObject(value) ? value : {});
const ACCEPTED = new Set<string>([EventType.approvalGranted, EventType.approvalRejected, EventType.operationResolved]);
const DECIDED = new Set<string>([...ACCEPTED, EventType.approvalRefused, EventType.operationResolveRefused]);

/** A record whose identity the check reads: who it says, whether it says verified, and its claim. */
interface IdentityRecord {
  claim: ProofClaim;
  operationId: string;
  verified: boolean;
  accepted: boolean;
  /** What the proof was put to: `request`, or the kind of decision. */
  use: 'request' | DecisionKind;
  /** False for a record that carries no identity at all (made before identities were checked, or stripped). */
  recorded: boolean;
}

function seconds(iso: unknown): number {
  const ms = typeof iso === 'string' ? Date.parse(iso) : NaN;
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

function canonical(id: unknown): string {
  const found = canonicalId(id);
  return found.ok ? found.id : String(id);
}

/** An operation.planned record with an identity: the requester's claim. */
function requestRecord(seq: number, record: Json): IdentityRecord | null {
  const payload = obj(record.payload);
  const envelope = obj(payload.envelope);
  const operationId = String(record.operationId ?? '');
  const who = canonical(obj(envelope.actor).id);
  const request = {
    operationId,
    actorId: typeof payload.actorAsGiven === 'string' ? payload.actorAsGiven : who,
    intent: String(envelope.intent ?? ''),
    paramsSha256: String(envelope.paramsHash ?? ''),
    mode: String(envelope.mode ?? ''),
    labels: obj(envelope.labels) as Record<string, string>,
  };
  const at = seconds(record.occurredAt);
  const claim = {
    seq,
    at,
    who,
    evidence: obj(payload.identity),
    directoryVersion: payload.directoryVersion,
    subject: { request },
  };
  const recorded = isObject(payload.identity);
  return { claim, operationId, verified: claim.evidence.verified === true, accepted: true, use: 'request', recorded };
}

/** An approval, rejection or resolution record with an identity: the decider's claim. */
function decisionRecord(seq: number, record: Json): IdentityRecord | null {
  const type = String(record.type);
  const payload = obj(record.payload);
  if (!DECIDED.has(type)) return null;
  const kind = (type.startsWith('operation.resolve') ? 'resolve' : payload.kind) as DecisionKind;
  const operationId = String(record.operationId ?? '');
  const decision = {
    kind,
    operationId,
    digest: typeof payload.digest === 'string' ? payload.digest : null,
    reason: String(payload.reason ?? ''),
    ...(kind === 'resolve' ? { action: String(payload.action ?? '') } : {}),
  };
  const who = canonical(payload.approver ?? payload.by);
  const at = seconds(record.occurredAt);
  const claim = {
    seq,
    at,
    who,
    evidence: obj(payload.identity),
    directoryVersion: payload.directoryVersion,
    subject: { decision },
  };
  const verified = payload.identityVerified === true;
  const recorded = isObject(payload.identity);
  return { claim, operationId, verified, accepted: ACCEPTED.has(type), use: kind, recorded };
}

/** Proofs put to use, as identity.proof_used records say: proofSha256 to its use. */
function proofUses(records: readonly ParsedRecord[]): Map<string, { use: string; operationId: string }> {
  const uses = new Map<string, { use: string; operationId: string }>();
  for (const { record } of records) {
    if (record?.type !== PROOF_USED_TYPE) continue;
    const payload = obj(record.payload);
    if (typeof payload.proofSha256 === 'string')
      uses.set(payload.proofSha256, { use: String(payload.use), operationId: String(payload.operationId) });
  }
  return uses;
}

/**
 * Operations whose policy asked for verified identities, by use: decisions as their policy.decided
 * says, requests as the recorded policy text it names says.
 */
function verifiedRequired(records: readonly ParsedRecord[]): { decisions: Set<string>; requests: Set<string> } {
  const policies = new Map<string, unknown>();
  for (const { record } of records) {
    const found = record ? governanceContent(record) : null;
    if (found?.kind === 'policy') policies.set(found.revision, found.content);
  }
  const required = { decisions: new Set<string>(), requests: new Set<string>() };
  for (const { record } of records) {
    if (record?.type !== EventType.policyDecided) continue;
    const decision = obj(obj(record.payload).decision);
    const operationId = String(record.operationId);
    if (decision.decisionIdentity === 'verified') required.decisions.add(operationId);
    const policy = policies.get(String(decision.policyRevision));
    if (obj(obj(policy).identity).requests === 'verified') required.requests.add(operationId);
  }
  return required;
}

export async function checkIdentities(
  records: readonly ParsedRecord[],
  options: IdentityOptions,
  report: Report,
  notice: (found: IdentityNotice) => void,
): Promise<IdentitySummary> {
  const contents = new Map<string, unknown>();
  for (const { record } of records) {
    const found = record ? governanceContent(record) : null;
    if (found?.kind === 'directory') contents.set(found.revision, found.content);
  }
  const context: ProofContext = {
    directories: new RecordedDirectories(contents),
    providerKeys: await RecordedProviderKeys.read(records, report),
    ...(options.pinnedChannels ? { pinnedChannels: options.pinnedChannels } : {}),
  };
  const uses = proofUses(records);
  const required = verifiedRequired(records);
  const summary: IdentitySummary = {
    verified: 0,
    notVerified: 0,
    channelKeysPinned: options.pinnedChannels !== undefined,
  };
  for (const { seq, record } of records) {
    const found = record
      ? record.type === EventType.operationPlanned
        ? requestRecord(seq, record)
        : decisionRecord(seq, record)
      : null;
    if (!found) continue;
    if (found.verified) {
      if (await checkVerified(found, context, uses, report)) summary.verified++;
    } else if (found.accepted) {
      if (found.recorded) summary.notVerified++;
      checkUnverified(found, required, report, found.recorded ? notice : () => undefined);
    }
  }
  return summary;
}

/** A record that says a proof established its identity: the proof re-checks, and its use is on record. */
async function checkVerified(
  found: IdentityRecord,
  context: ProofContext,
  uses: ReadonlyMap<string, { use: string; operationId: string }>,
  report: Report,
): Promise<boolean> {
  const { claim } = found;
  const recheck = await recheckProof(claim, context);
  if (!recheck.ok) {
    report(recheck.code, `${found.use} of ${found.operationId}: ${recheck.problem}`, claim.seq);
    return false;
  }
  // Key signatures on decisions bind the operation and digest themselves; every other proof counts once.
  if (found.use !== 'request' && claim.evidence.channel === 'key') return true;
  const used = uses.get(String(claim.evidence.proofSha256));
  if (!used) {
    report(
      'PROOF_USE_NOT_RECORDED',
      `${found.use} of ${found.operationId}: no identity.proof_used record holds its proof`,
      claim.seq,
    );
    return false;
  }
  if (used.use !== found.use || used.operationId !== found.operationId) {
    report(
      'PROOF_REUSED',
      `${found.use} of ${found.operationId}: its proof was put to ${used.use} of ${used.operationId}`,
      claim.seq,
    );
    return false;
  }
  return true;
}

function checkUnverified(
  found: IdentityRecord,
  required: { decisions: ReadonlySet<string>; requests: ReadonlySet<string> },
  report: Report,
  notice: (found: IdentityNotice) => void,
): void {
  const { claim, operationId, use } = found;
  const role = use === 'request' ? `requester ${claim.who}` : `${use} by ${claim.who}`;
  if ((use === 'request' ? required.requests : required.decisions).has(operationId))
    report(
      'IDENTITY_REQUIRED',
      `${role}: went on with an identity ${found.recorded ? 'not verified' : 'not on the record'}, though the operation's policy requires verified ${use === 'request' ? 'requests' : 'decisions'}`,
      claim.seq,
    );
  notice({
    code: NOT_VERIFIED_CODE,
    seq: claim.seq,
    operationId,
    problem: `identity not verified: ${role} was asserted, not proved`,
  });
}
