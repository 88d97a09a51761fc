import { createHash, createPublicKey, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { canonicalText } from './canonical.js';
import { decodeBase64Strict } from './base64.js';

/**
 * What a decider signs (docs/FORMAT.md, "Signed decisions"). Each kind of decision has its own
 * first line, so a signature made for one kind (or for anything else) never passes as another,
 * and every message names the operation and the digest of what was decided on.
 */
export type DecisionKind = 'approve' | 'reject' | 'resolve';

export interface DecisionBinding {
  kind: DecisionKind;
  operationId: string;
  /** The approval digest the decider was shown (64 hex digits). */
  digest: string;
  /** Resolutions only: what was done by hand and why. */
  resolution?: { action: string; reason: string };
}

export const DECISION_PREFIX: Record<DecisionKind, string> = {
  approve: 'writ-approve-v2',
  reject: 'writ-reject-v1',
  resolve: 'writ-resolve-v1',
};

/** Hex SHA-256 of the RFC 8785 JSON `{"action": ..., "reason": ...}`: binds a resolution's words. */
export function resolutionDigest(resolution: { action: string; reason: string }): string {
  return createHash('sha256')
    .update(canonicalText({ action: resolution.action, reason: resolution.reason }), 'utf8')
    .digest('hex');
}

export function decisionMessage(binding: DecisionBinding): Buffer {
  const lines = [DECISION_PREFIX[binding.kind], binding.operationId, binding.digest];
  if (binding.kind === 'resolve') lines.push(resolutionDigest(binding.resolution ?? { action: '', reason: '' }));
  return Buffer.from(lines.map((line) => `${line}\n`).join(''), 'utf8');
}

/** An Ed25519 public key: PEM (SPKI) or base64 of the 32 raw bytes. */
export function parsePublicKey(text: string): KeyObject {
  const trimmed = text.trim();
  const key = trimmed.includes('BEGIN') ? createPublicKey(trimmed) : rawKey(trimmed);
  if (key.asymmetricKeyType !== 'ed25519')
    throw new Error(`an approver key must be Ed25519, not ${key.asymmetricKeyType}`);
  return key;
}

function rawKey(text: string): KeyObject {
  const raw = Buffer.from(text, 'base64');
  if (raw.length !== 32) throw new Error('an Ed25519 public key in base64 must decode to 32 bytes');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

/** The key id recorded with a decision: hex SHA-256 of the 32 raw bytes of the Ed25519 public key. */
export function approverKeyId(key: KeyObject): string {
  const raw = Buffer.from(key.export({ format: 'jwk' }).x!, 'base64url');
  return createHash('sha256').update(raw).digest('hex');
}

/** True only for a standard-base64 64-byte Ed25519 signature by `key` over the decision's message. */
export function verifyDecisionSignature(binding: DecisionBinding, signature: string, key: KeyObject): boolean {
  const sig = decodeBase64Strict(signature);
  if (!sig || sig.length !== 64) return false;
  try {
    return verify(null, decisionMessage(binding), key, sig);
  } catch {
    return false;
  }
}
