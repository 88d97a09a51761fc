import { sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { IdentityProof } from '../model/identity-proof.js';
import { identityProofSchema } from '../model/identity-proof.js';
import type { OperationRequest } from '../model/request.js';
import { requestMessage } from '../verify/request-signature.js';

/**
 * How a caller proves who sends a request (`WritClient.start(request, { identity })`):
 * - `key`: the caller's Ed25519 private key; the directory must list its public key for the
 *   request's `actor.id`;
 * - `token`: a token from an identity provider the directory trusts, or a function that fetches
 *   one. The worker accepts each token once, so a function is called afresh for every request;
 * - `proof`: a proof made elsewhere, sent as it is.
 */
export type RequestIdentity =
  { key: KeyObject } | { token: string | (() => Promise<string>) } | { proof: IdentityProof };

/** Thrown when the identity cannot be turned into a proof: the request is not sent. */
export class RequestIdentityError extends Error {
  override readonly name = 'RequestIdentityError';
}

/**
 * The proof for `request`, which must already be parsed as the worker parses it and carry the
 * operationId it will run under: a signature covers exactly those bytes, so signing anything
 * else (an unparsed id spelling, a missing default) would be refused by the worker.
 */
export async function proveRequest(
  request: OperationRequest & { operationId: string },
  identity: RequestIdentity,
): Promise<IdentityProof> {
  if ('key' in identity) return { kind: 'key', signature: signRequest(request, identity.key) };
  if ('token' in identity) {
    const token = typeof identity.token === 'function' ? await fetchToken(identity.token) : identity.token;
    return checked({ kind: 'token', token: token.trim() });
  }
  return checked(identity.proof);
}

/** The standard-base64 Ed25519 signature over the request's message (docs/FORMAT.md, "Identity proofs"). */
export function signRequest(request: OperationRequest & { operationId: string }, privateKey: KeyObject): string {
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519')
    throw new RequestIdentityError(
      `a request is signed with an Ed25519 private key, and this is ${privateKey.asymmetricKeyType ?? 'a'} ${privateKey.type} key`,
    );
  return sign(null, requestMessage(request), privateKey).toString('base64');
}

/** The source's own failure is the caller's to see as it is; only what it returns is checked here. */
async function fetchToken(source: () => Promise<string>): Promise<string> {
  const token: unknown = await source();
  if (typeof token !== 'string') throw new RequestIdentityError('the token source did not return a string');
  return token;
}

function checked(proof: unknown): IdentityProof {
  const parsed = identityProofSchema.safeParse(proof);
  if (parsed.success) return parsed.data;
  throw new RequestIdentityError(parsed.error.issues.map((issue) => issue.message).join('; '));
}
