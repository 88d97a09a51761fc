import { verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { canonicalText } from './canonical.js';
import { decodeBase64Strict } from './base64.js';
import { sha256Hex } from './hash.js';

/**
 * What a requester signs with the key the directory lists for them (docs/FORMAT.md, "Identity
 * proofs"): its own first line, so it never passes for a decision's signature, the operation id,
 * and the digest of everything the request asks. The steps enter through their SHA-256, the
 * `paramsHash` every operation.planned record carries, so an auditor re-checks the signature from
 * the record alone. The actor's kind and groups are left out: they are the directory's.
 */
export const REQUEST_PREFIX = 'writ-request-v1';

export interface SignedRequestFields {
  operationId: string;
  actor: { id: string };
  intent: string;
  steps: unknown;
  mode: string;
  labels?: Record<string, string> | undefined;
}

/** What the request digest binds, as an operation.planned record holds it (the envelope). */
export interface RecordedRequestFields {
  operationId: string;
  actorId: string;
  intent: string;
  /** Hex SHA-256 of the RFC 8785 JSON of the steps (the envelope's `paramsHash`). */
  paramsSha256: string;
  mode: string;
  labels: Record<string, string>;
}

export function recordedRequestFields(request: SignedRequestFields): RecordedRequestFields {
  return {
    operationId: request.operationId,
    actorId: request.actor.id,
    intent: request.intent,
    paramsSha256: sha256Hex(canonicalText(request.steps)),
    mode: request.mode,
    labels: request.labels ?? {},
  };
}

/** Hex SHA-256 of the RFC 8785 JSON `{"actor", "intent", "labels", "mode", "paramsSha256"}`. */
export function requestDigest(fields: RecordedRequestFields): string {
  const { actorId, intent, paramsSha256, mode, labels } = fields;
  return sha256Hex(canonicalText({ actor: actorId, intent, labels, mode, paramsSha256 }));
}

export function requestMessage(request: SignedRequestFields | RecordedRequestFields): Buffer {
  const fields = 'paramsSha256' in request ? request : recordedRequestFields(request);
  return Buffer.from(`${REQUEST_PREFIX}\n${fields.operationId}\n${requestDigest(fields)}\n`, 'utf8');
}

/** True only for a standard-base64 64-byte Ed25519 signature by `key` over the request's message. */
export function verifyRequestSignature(
  request: SignedRequestFields | RecordedRequestFields,
  signature: string,
  key: KeyObject,
): boolean {
  const sig = decodeBase64Strict(signature);
  if (!sig || sig.length !== 64) return false;
  try {
    return verify(null, requestMessage(request), key, sig);
  } catch {
    return false;
  }
}
