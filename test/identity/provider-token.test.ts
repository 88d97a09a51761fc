import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import type { JWK } from 'jose';
import type { ProviderKeyLookup, TrustedProvider } from '../../src/verify/provider-token.js';
import { checkProviderToken } from '../../src/verify/provider-token.js';

const ISSUER = 'https://idp.example.com';
const NOW = 1_800_000_000;
const providers: TrustedProvider[] = [{ issuer: ISSUER, audiences: ['writ'] }];

async function provider() {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' };
  const thumbprint = await calculateJwkThumbprint(jwk);
  const lookup: ProviderKeyLookup = async (issuer, header) =>
    issuer === ISSUER && header.kid === 'k1' ? { key: jwk, thumbprint } : null;
  const token = (claims: Record<string, unknown> = {}, { issuer = ISSUER, audience = 'writ', exp = NOW + 600 } = {}) =>
    new SignJWT({ sub: 'svc-billing', ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(issuer)
      .setAudience(audience)
      .setIssuedAt(NOW - 10)
      .setExpirationTime(exp)
      .sign(privateKey);
  return { lookup, token, thumbprint };
}

describe("an identity provider's token is checked completely", () => {
  test('a token from a trusted issuer, for Writ, within its lifetime, verifies and names its key', async () => {
    const { lookup, token, thumbprint } = await provider();
    const checked = await checkProviderToken(await token(), providers, lookup, { at: NOW });
    assert.ok(checked.ok, checked.ok ? '' : checked.problem);
    assert.equal(checked.claims.sub, 'svc-billing');
    assert.equal(checked.providerKey, thumbprint);
  });

  test('expired, for another audience, from an untrusted issuer: each refused with its reason', async () => {
    const { lookup, token } = await provider();
    const cases: Array<[Promise<string>, RegExp]> = [
      [token({}, { exp: NOW - 3600 }), /the token expired/],
      [token({}, { audience: 'another-app' }), /audience "another-app" is none of writ/],
      [
        token({}, { issuer: 'https://evil.example.com' }),
        /issuer "https:\/\/evil.example.com" is not a trusted identity provider/,
      ],
    ];
    for (const [made, reason] of cases) {
      const checked = await checkProviderToken(await made, providers, lookup, { at: NOW });
      assert.equal(checked.ok, false);
      assert.match(checked.ok ? '' : checked.problem, reason);
    }
  });

  test('unsigned (alg none), shared-secret (HS256) and tampered tokens are refused', async () => {
    const { lookup, token } = await provider();
    const good = await token();
    const [, payload] = good.split('.');
    const header = (alg: string) => Buffer.from(JSON.stringify({ alg, kid: 'k1' })).toString('base64url');
    const none = await checkProviderToken(`${header('none')}.${payload}.`, providers, lookup, { at: NOW });
    assert.match(none.ok ? '' : none.problem, /unsigned \(alg "none"\)/);
    const hmac = await new SignJWT({ sub: 'svc-billing' })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience('writ')
      .setExpirationTime(NOW + 600)
      .sign(new TextEncoder().encode('a shared secret anyone could hold'));
    const shared = await checkProviderToken(hmac, providers, lookup, { at: NOW });
    assert.match(shared.ok ? '' : shared.problem, /signed with HS256, which Writ does not accept/);
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    const swapped = Buffer.from(JSON.stringify({ ...claims, sub: 'admin' })).toString('base64url');
    const [head, , signature] = good.split('.');
    const tampered = await checkProviderToken(`${head}.${swapped}.${signature}`, providers, lookup, { at: NOW });
    assert.match(tampered.ok ? '' : tampered.problem, /signature does not verify/);
  });

  test('a login bound to a nonce must carry it', async () => {
    const { lookup, token } = await provider();
    const other = await checkProviderToken(await token({ nonce: 'n-1' }), providers, lookup, { at: NOW, nonce: 'n-2' });
    assert.match(other.ok ? '' : other.problem, /does not carry the nonce/);
    const same = await checkProviderToken(await token({ nonce: 'n-1' }), providers, lookup, { at: NOW, nonce: 'n-1' });
    assert.ok(same.ok);
  });
});
