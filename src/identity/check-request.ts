import type { IdentityCheck } from '../model/identity-proof.js';
import { NO_PROOF, refusedProof } from '../model/identity-proof.js';
import type { OperationRequest } from '../model/request.js';
import { sha256Hex } from '../verify/hash.js';
import { checkProviderToken } from '../verify/provider-token.js';
import { verifyRequestSignature } from '../verify/request-signature.js';
import { loginName, personOfLogin } from './map-login.js';
import type { IdentityContext } from './service.js';

type Request = OperationRequest & { operationId: string };

/**
 * Who really sent a request, from its proof; the request's own `actor.id` is a hint, used only to
 * find the key a signature should verify with. No proof: `asserted`, and policy decides whether
 * that is enough. A proof that does not check out is never "asserted": it is a refused request.
 */
export async function checkRequestIdentity(request: Request, context: IdentityContext): Promise<IdentityCheck> {
  const proof = request.identity;
  if (!proof) return NO_PROOF;
  const { people } = await context.people();
  const at = Math.floor(context.now().getTime() / 1000);
  let check: IdentityCheck;
  if (proof.kind === 'channel') {
    return refusedProof(
      'asserted',
      'a channel assertion proves a decision, not a request: sign the request or send a token',
    );
  } else if (proof.kind === 'key') {
    const person = people.byId(request.actor.id);
    const base = { signature: proof.signature, proofSha256: sha256Hex(proof.signature) };
    if (!person?.key) return refusedProof('key', `${request.actor.id} has no key in the directory`, base);
    if (!verifyRequestSignature(request, proof.signature, person.key))
      return refusedProof('key', `the signature does not verify against ${person.id}'s key`, base);
    check = { verified: true, id: person.id, channel: 'key', keyId: person.keyId!, ...base };
  } else {
    const base = { token: proof.token, proofSha256: sha256Hex(proof.token) };
    const token = await checkProviderToken(proof.token, people.providers, context.providerKeys, { at });
    if (!token.ok) return refusedProof('token', token.problem, base);
    const person = personOfLogin(people, token.claims);
    const login = { issuer: token.claims.iss, subject: token.claims.sub, providerKey: token.providerKey };
    if (!person)
      return refusedProof('token', `the token's ${loginName(token.claims)} is nobody in the directory`, {
        ...base,
        ...login,
      });
    check = { verified: true, id: person.id, channel: 'token', ...login, ...base };
  }
  const earlier = await context.consume(check.proofSha256!, { use: 'request', operationId: request.operationId });
  if (earlier)
    return {
      ...check,
      verified: false,
      id: null,
      problem: `the proof was already used (${earlier.use} of ${earlier.operationId}): a proof counts once`,
    };
  return check;
}
