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

export function checkDecisionSignatures(
  records: readonly DecisionRecord[],
  keys: PinnedApproverKeys | undefined,
  report: (code: BundleFindingCode, problem: string, seq: number) => void,
  warn: (warning: string) => void,
): DecisionSignatureSummary {
  const required = signingRequired(records);
  let signed = 0;
  for (const { seq, record } of records) {
    const type = typeof record?.type === 'string' ? record.type : '';
    const decision = DECISIONS[type];
    if (!record || !decision) continue;
    const payload = obj(record.payload);
    const who = String(payload.approver ?? payload.by ?? '');
    const name = `${type} by ${who}`;
    const operationId = typeof record.operationId === 'string' ? record.operationId : '';
    const signature = typeof payload.signature === 'string' ? payload.signature : null;
    if (!signature) {
      if (decision.accepted && required.has(operationId))
        report(
          'DECISION_UNSIGNED',
          `${name}: accepted without a signature although the operation's policy requires signed approvals`,
          seq,
        );
      continue;
    }
    signed++;
    if (!keys) continue;
    const kind = decision.kind ?? String(payload.kind ?? '');
    const digest = payload.digest;
    if (!KINDS.has(kind) || typeof digest !== 'string') {
      if (decision.accepted)
        report(
          'DECISION_SIGNATURE_UNCHECKABLE',
          `${name}: the signed decision does not say its kind and digest, so its signature cannot be checked`,
          seq,
        );
      continue;
    }
    const binding = {
      kind: kind as DecisionKind,
      operationId,
      digest,
      ...(kind === 'resolve'
        ? { resolution: { action: String(payload.action ?? ''), reason: String(payload.reason ?? '') } }
        : {}),
    };
    const canonical = canonicalId(who);
    const pinned = canonical.ok ? (keys.byApprover.get(canonical.id) ?? []) : [];
    const verifiedBy = pinned.find((candidate) => verifyDecisionSignature(binding, signature, candidate.key));
    if (decision.accepted) {
      if (!pinned.length)
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
    } else if (payload.signatureValid === true && !verifiedBy) {
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
  if (!keys && signed)
    warn(
      `${signed} signed decision(s): their signatures were not checked against pinned approver keys (pass --approver-keys <directory file>)`,
    );
  return { signed, checked: keys !== undefined };
}
