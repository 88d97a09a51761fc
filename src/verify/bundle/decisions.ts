import type { KeyObject } from 'node:crypto';
import type { DecisionKind } from '../decision-signature.js';
import { approverKeyId, parsePublicKey, verifyDecisionSignature } from '../decision-signature.js';
import { canonicalId } from '../../model/identity.js';
import { EventType } from '../../model/events.js';
import type { BundleFindingCode } from './findings.js';

/**
 * Signed decisions in a bundle, checked against approver keys the auditor pinned out of band
 * (docs/FORMAT.md 10.6, step 7). Writ's own `signatureValid` is the worker's word; these checks
 * are the auditor's: a worker host that appends an approval nobody signed is caught here.
 */

export interface PinnedApproverKeys {
  /** Canonical approver id to their pinned keys, each with its key id. */
  byApprover: Map<string, Array<{ keyId: string; key: KeyObject }>>;
}

/**
 * Reads the pinned keys from an approver directory file (`approvers[].id` and `.publicKey`; other
 * members are ignored).
 */
export function pinnedApproverKeys(input: unknown): PinnedApproverKeys {
  const approvers =
    input !== null && typeof input === 'object' ? (input as { approvers?: unknown }).approvers : undefined;
  if (!Array.isArray(approvers))
    throw new Error(
      'the approver keys file must be an approver directory: {"approvers": [{"id": ..., "publicKey": ...}, ...]}',
    );
  const byApprover = new Map<string, Array<{ keyId: string; key: KeyObject }>>();
  approvers.forEach((entry: unknown, index) => {
    const { id, publicKey } = (entry ?? {}) as { id?: unknown; publicKey?: unknown };
    const canonical = canonicalId(id);
    if (!canonical.ok) throw new Error(`approvers.${index}.id: ${canonical.problem}`);
    if (publicKey === undefined) return;
    if (typeof publicKey !== 'string') throw new Error(`approvers.${index}.publicKey must be a string`);
    let key: KeyObject;
    try {
      key = parsePublicKey(publicKey);
    } catch (error) {
      throw new Error(`approvers.${index}.publicKey: ${(error as Error).message}`);
    }
    byApprover.set(canonical.id, [...(byApprover.get(canonical.id) ?? []), { keyId: approverKeyId(key), key }]);
  });
  return { byApprover };
}

/** Decision records and what they decided: accepted ones carry the operation forward. */
const DECISIONS: Record<string, { accepted: boolean; kind?: DecisionKind }> = {
  [EventType.approvalGranted]: { accepted: true },
  [EventType.approvalRejected]: { accepted: true },
  [EventType.approvalRefused]: { accepted: false },
  [EventType.operationResolved]: { accepted: true, kind: 'resolve' },
  [EventType.operationResolveRefused]: { accepted: false, kind: 'resolve' },
};
const KINDS = new Set<string>(['approve', 'reject', 'resolve']);

export interface DecisionRecord {
  seq: number;
  record: Record<string, unknown> | null;
}

export interface DecisionSignatureSummary {
  /** Decision records carrying a signature. */
  signed: number;
  /** True when they were checked against pinned keys. */
  checked: boolean;
}

function obj(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** Operations whose policy required signed approvals, as their own records say. */
function signingRequired(records: readonly DecisionRecord[]): Set<string> {
  const required = new Set<string>();
  for (const { record } of records) {
    const payload = obj(record?.payload);
    const signed =
      record?.type === EventType.approvalRequested
        ? payload.signed === true
        : record?.type === EventType.policyDecided
          ? obj(payload.decision).signedApprovals === true
          : false;
    if (signed && typeof record?.operationId === 'string') required.add(record.operationId);
  }
  return required;
}

type Report = (code: BundleFindingCode, problem: string, seq: number) => void;

/** A decision record as its signature check reads it. */
interface Decision {
  seq: number;
  accepted: boolean;
  kind: string;
  /** How findings name it: its type and decider. */
  name: string;
  who: string;
  operationId: string;
  signature: string | null;
  payload: Record<string, unknown>;
}

export function checkDecisionSignatures(
  records: readonly DecisionRecord[],
  keys: PinnedApproverKeys | undefined,
  report: Report,
  warn: (warning: string) => void,
): DecisionSignatureSummary {
  const required = signingRequired(records);
  let signed = 0;
  for (const { seq, record } of records) {
    const decision = readDecision(seq, record);
    if (!decision) continue;
    if (!decision.signature) {
      if (decision.accepted && required.has(decision.operationId))
        report(
          'DECISION_UNSIGNED',
          `${decision.name}: accepted without a signature although the operation's policy requires signed approvals`,
          seq,
        );
      continue;
    }
    signed++;
    if (keys) checkSignedDecision(decision, decision.signature, keys, report, warn);
  }
  if (!keys && signed)
    warn(
      `${signed} signed decision(s): their signatures were not checked against pinned approver keys (pass --approver-keys <directory file>)`,
    );
  return { signed, checked: keys !== undefined };
}

/** The record as a decision, or null when it is not a decision record. */
function readDecision(seq: number, record: Record<string, unknown> | null): Decision | null {
  const type = typeof record?.type === 'string' ? record.type : '';
  const decided = DECISIONS[type];
  if (!record || !decided) return null;
  const payload = obj(record.payload);
  const who = String(payload.approver ?? payload.by ?? '');
  return {
    seq,
    accepted: decided.accepted,
    kind: decided.kind ?? String(payload.kind ?? ''),
    name: `${type} by ${who}`,
    who,
    operationId: typeof record.operationId === 'string' ? record.operationId : '',
    signature: typeof payload.signature === 'string' ? payload.signature : null,
    payload,
  };
}

/** A signed decision against the decider's pinned keys. */
function checkSignedDecision(
  decision: Decision,
  signature: string,
  keys: PinnedApproverKeys,
  report: Report,
  warn: (warning: string) => void,
): void {
  const { seq, name, who, kind, payload } = decision;
  const digest = payload.digest;
  if (!KINDS.has(kind) || typeof digest !== 'string') {
    if (decision.accepted)
      report(
        'DECISION_SIGNATURE_UNCHECKABLE',
        `${name}: the signed decision does not say its kind and digest, so its signature cannot be checked`,
        seq,
      );
    return;
  }
  const binding = {
    kind: kind as DecisionKind,
    operationId: decision.operationId,
    digest,
    ...(kind === 'resolve'
      ? { resolution: { action: String(payload.action ?? ''), reason: String(payload.reason ?? '') } }
      : {}),
  };
  const canonical = canonicalId(who);
  const pinned = canonical.ok ? (keys.byApprover.get(canonical.id) ?? []) : [];
  const verifiedBy = pinned.find((candidate) => verifyDecisionSignature(binding, signature, candidate.key));
  if (decision.accepted) checkAcceptedSignature(decision, pinned.length > 0, verifiedBy, report);
  else checkRefusedSignature(decision, verifiedBy, report, warn);
}

/** An accepted decision must verify against a pinned key of its decider, the one it names. */
function checkAcceptedSignature(
  { seq, name, who, payload }: Decision,
  pinned: boolean,
  verifiedBy: { keyId: string } | undefined,
  report: Report,
): void {
  if (!pinned)
    report(
      'APPROVER_KEY_NOT_PINNED',
      `${name}: signed, but no key of ${who} is pinned in the approver keys given`,
      seq,
    );
  else if (!verifiedBy)
    report('DECISION_SIGNATURE_INVALID', `${name}: the signature does not verify against ${who}'s pinned key`, seq);
  else if (payload.keyId !== verifiedBy.keyId)
    report(
      'DECISION_KEY_MISMATCH',
      `${name}: the recorded keyId ${String(payload.keyId)} is not the pinned key that verifies (${verifiedBy.keyId})`,
      seq,
    );
}

/** A refused decision's recorded verdict on its signature must agree with the pinned keys. */
function checkRefusedSignature(
  { seq, name, who, payload }: Decision,
  verifiedBy: { keyId: string } | undefined,
  report: Report,
  warn: (warning: string) => void,
): void {
  if (payload.signatureValid === true && !verifiedBy) {
    report(
      'DECISION_SIGNATURE_INVALID',
      `${name}: recorded as a valid signature, but it does not verify against ${who}'s pinned key`,
      seq,
    );
  } else if (payload.signatureValid === false && verifiedBy) {
    warn(
      `record ${seq} (${name}): refused with a signature the worker found invalid, yet it verifies against the pinned key: the directory held another key then`,
    );
  }
}
