import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import type { DevIdentityProvider } from '../../src/devstack/identity-provider.js';
import { startIdentityProvider } from '../../src/devstack/identity-provider.js';
import { ProviderKeys } from '../../src/identity/provider-keys.js';
import { checkProviderToken } from '../../src/verify/provider-token.js';
import { browserUnavailable, launchChromium } from '../support/browser.js';

const SERVICE = { clientId: 'billing-bot', clientSecret: 'billing-bot-secret' };
const WEB = 'writ-serve';

describe('the development identity provider', () => {
  let idp: DevIdentityProvider;
  /** Where the browser lands after signing in: the test reads the code from the page's URL. */
  let callback: { url: string; close(): Promise<void> };

  before(async () => {
    callback = await startCallbackServer();
    idp = await startIdentityProvider({
      people: [{ id: 'bob', email: 'bob@example.com' }, { id: 'carol' }],
      clients: [
        { ...SERVICE, grant: 'client_credentials' },
        { clientId: WEB, redirectUris: [callback.url], grant: 'code' },
      ],
    });
  });

  after(async () => {
    await idp.close();
    await callback.close();
  });

  test('publishes an OpenID configuration for its own issuer with its key set, code with PKCE and client credentials', async () => {
    const metadata = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    assert.equal(metadata.issuer, idp.issuer);
    assert.equal(metadata.jwks_uri, idp.jwksUri);
    assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
    assert.ok((metadata.grant_types_supported as string[]).includes('client_credentials'));
    const jwks = (await (await fetch(idp.jwksUri)).json()) as { keys: Array<Record<string, unknown>> };
    assert.equal(jwks.keys.length, 1);
    assert.equal(jwks.keys[0]!.d, undefined, 'the published key set holds no private part');
  });

  test("a service's client credentials token is a JWT for Writ's audience that Writ's own checks accept", async () => {
    const token = await idp.clientCredentialsToken(SERVICE.clientId, SERVICE.clientSecret);
    const firstSeen: string[] = [];
    const keys = new ProviderKeys({ firstUse: async (issuer) => void firstSeen.push(issuer) });
    const providers = [{ issuer: idp.issuer, audiences: [idp.audience] }];
    const check = await checkProviderToken(token, providers, keys.lookup, { at: Math.floor(Date.now() / 1000) });
    assert.ok(check.ok, check.ok ? '' : check.problem);
    assert.equal(check.claims.sub, SERVICE.clientId);
    assert.equal(check.claims.aud, 'writ');
    assert.deepEqual(firstSeen, [idp.issuer]);

    const elsewhere = await checkProviderToken(token, [{ issuer: idp.issuer, audiences: ['other'] }], keys.lookup, {
      at: Math.floor(Date.now() / 1000),
    });
    assert.deepEqual(elsewhere, { ok: false, problem: `the token's audience "writ" is none of other` });
  });

  test('a wrong client secret gets no token', async () => {
    await assert.rejects(
      idp.clientCredentialsToken(SERVICE.clientId, 'guessed'),
      /billing-bot got no token from .*: invalid_client \(client authentication failed\)/,
    );
  });

  test(
    'a person signs in through the browser (code with PKCE) and the ID token names them, their email and the login time',
    { skip: browserUnavailable() ?? false },
    async () => {
      const config = await oidc.discovery(new URL(idp.issuer), WEB, undefined, oidc.None(), {
        execute: [oidc.allowInsecureRequests],
      });
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const start = oidc.buildAuthorizationUrl(config, {
        redirect_uri: callback.url,
        scope: 'openid email',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      const browser = await launchChromium();
      try {
        const page = await browser.newPage();
        await page.goto(start.href);
        assert.match(await page.locator('h1').innerText(), /Development identity provider/);
        await page.fill('input[name=person]', 'mallory');
        await page.click('button[type=submit]');
        assert.match(await page.locator('[role=alert]').innerText(), /mallory is not in the directory/);
        await page.fill('input[name=person]', 'bob');
        await page.screenshot({ path: join(mkdtempSync(join(tmpdir(), 'writ-idp-')), 'login.png') });
        const signedInAt = Math.floor(Date.now() / 1000);
        await Promise.all([page.waitForURL(`${callback.url}**`), page.click('button[type=submit]')]);
        const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), {
          pkceCodeVerifier: verifier,
          expectedState: state,
          expectedNonce: nonce,
        });
        const claims = tokens.claims()!;
        assert.equal(claims.sub, 'bob');
        assert.equal(claims.email, 'bob@example.com');
        assert.equal(claims.email_verified, true);
        assert.equal(typeof claims.auth_time, 'number');
        assert.ok(Math.abs(claims.auth_time! - signedInAt) <= 5, 'auth_time is when bob signed in');

        const keys = new ProviderKeys();
        const check = await checkProviderToken(
          tokens.id_token!,
          [{ issuer: idp.issuer, audiences: [WEB] }],
          keys.lookup,
          {
            at: Math.floor(Date.now() / 1000),
            nonce,
          },
        );
        assert.ok(check.ok, check.ok ? '' : check.problem);
        assert.equal(decodeJwt(tokens.id_token!).nonce, nonce);
      } finally {
        await browser.close();
      }
    },
  );
});

async function startCallbackServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end('signed in\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
