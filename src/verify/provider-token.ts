import { decodeJwt, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import type { JWTPayload, JWK } from 'jose';
import type { KeyObject } from 'node:crypto';

/** An identity provider the directory trusts: its issuer URL and the audiences (client ids) Writ accepts. */
export interface TrustedProvider {
  issuer: string;
  audiences: readonly string[];
}

/**
 * Signature algorithms a provider's token may use. Never `none`, never a shared-secret HMAC: a
 * token must be checkable by anyone holding only the provider's public keys.
 */
export const PROVIDER_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'];

/** The provider's public key for a token's header, and its RFC 7638 thumbprint; null: none such. */
export type ProviderKeyLookup = (
  issuer: string,
  header: { kid?: string; alg?: string },
) => Promise<{ key: KeyObject | JWK; thumbprint: string } | null>;

export type ProviderTokenCheck =
  { ok: true; claims: JWTPayload & { sub: string; iss: string }; providerKey: string } | { ok: false; problem: string };

export interface ProviderTokenOptions {
  /** The moment the token must have been valid at, in seconds since the epoch. */
  at: number;
  clockToleranceSeconds?: number;
  /** Where a login bound the token to a nonce, the nonce it must carry. */
  nonce?: string;
}

const fail = (problem: string): ProviderTokenCheck => ({ ok: false, problem });

/**
 * Checks a provider's JWT completely: a trusted issuer, an allowed algorithm, a signature by one
 * of the issuer's keys, an audience Writ accepts, and validity at `at`. Pure but for the key
 * lookup, so an auditor's offline check runs it against the keys on the record.
 */
export async function checkProviderToken(
  token: string,
  providers: readonly TrustedProvider[],
  lookup: ProviderKeyLookup,
  options: ProviderTokenOptions,
): Promise<ProviderTokenCheck> {
  let header: { kid?: string; alg?: string };
  let unverified: JWTPayload;
  try {
    header = decodeProtectedHeader(token);
    unverified = decodeJwt(token);
  } catch {
    return fail('the token is not a readable JWT');
  }
  if (!header.alg || header.alg.toLowerCase() === 'none') return fail('the token is unsigned (alg "none")');
  if (!PROVIDER_ALGORITHMS.includes(header.alg))
    return fail(`the token is signed with ${header.alg}, which Writ does not accept from a provider`);
  const provider = providers.find((candidate) => candidate.issuer === unverified.iss);
  if (!provider)
    return fail(`the token's issuer ${JSON.stringify(unverified.iss ?? null)} is not a trusted identity provider`);
  const key = await lookup(provider.issuer, header);
  if (!key) return fail(`no key of ${provider.issuer} has the token's key id ${JSON.stringify(header.kid ?? null)}`);
  try {
    const { payload } = await jwtVerify(token, key.key, {
      issuer: provider.issuer,
      audience: [...provider.audiences],
      algorithms: PROVIDER_ALGORITHMS,
      currentDate: new Date(options.at * 1000),
      clockTolerance: options.clockToleranceSeconds ?? 60,
      requiredClaims: ['sub', 'exp'],
    });
    if (options.nonce !== undefined && payload.nonce !== options.nonce)
      return fail('the token does not carry the nonce of the login it came from');
    return { ok: true, claims: payload as JWTPayload & { sub: string; iss: string }, providerKey: key.thumbprint };
  } catch (error) {
    return fail(describeJoseError(error, provider));
  }
}

function describeJoseError(error: unknown, provider: TrustedProvider): string {
  if (error instanceof errors.JWTExpired) return `the token expired (exp ${String(error.payload.exp)})`;
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud')
      return `the token's audience ${JSON.stringify(error.payload.aud ?? null)} is none of ${provider.audiences.join(', ')}`;
    if (error.claim === 'nbf' || error.claim === 'iat') return `the token is not valid yet (${error.claim})`;
    return `the token's ${error.claim} claim is unacceptable: ${error.reason}`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return `the token's signature does not verify against ${provider.issuer}'s key`;
  return `the token does not verify: ${(error as Error)?.message ?? String(error)}`;
}
