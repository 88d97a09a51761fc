import { verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { canonicalText } from './canonical.js';
import { decodeBase64Strict } from './base64.js';
import { sha256Hex } from './hash.js';

/**
 * What a requester signs with the key the directory lists for them (docs/FORMAT.md, "Identity
 * proofs"): its own first line, so it never passes for a decision's signature, the operation id,
 * and the digest of everything the request asks. Groups are left out: they are the directory's.
 */
export const REQUEST_PREFIX = 'writ-request-v1';

export interface SignedRequestFields {
  operationId: string;
  actor: { id: string; kind: string };
  intent: string;
  steps: unknown;
  mode: string;
  labels?: Record<string, string> | undefined;
}

/** Hex SHA-256 of the RFC 8785 JSON of what the request asks, as the worker parsed it. */
export function requestDigest(request: SignedRequestFields): string {
  return sha256Hex(
    canonicalText({
      actor: { id: request.actor.id, kind: request.actor.kind },
      intent: request.intent,
      steps: request.steps,
      mode: request.mode,
      labels: request.labels ?? {},
    }),
  );
}

export function requestMessage(request: SignedRequestFields): Buffer {
  return Buffer.from(`${REQUEST_PREFIX}\n${request.operationId}\n${requestDigest(request)}\n`, 'utf8');
}

/** True only for a standard-base64 64-byte Ed25519 signature by `key` over the request's message. */
export function verifyRequestSignature(request: SignedRequestFields, signature: string, key: KeyObject): boolean {
  const sig = decodeBase64Strict(signature);
  if (!sig || sig.length !== 64) return false;
  try {
    return verify(null, requestMessage(request), key, sig);
  } catch {
    return false;
  }
}
