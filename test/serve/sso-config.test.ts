import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import pg from 'pg';
import { startServe } from '../../src/serve/server.js';
import { ssoConfigFromEnv } from '../../src/serve/sso-config.js';
import { LINK_SECRET } from './fixtures.js';

describe('single sign-on configuration of writ serve', () => {
  test('without WRIT_OIDC_ISSUER approvals are off; with it, the rest is read and the channel name defaults', () => {
    assert.equal(ssoConfigFromEnv({}), undefined);
    assert.deepEqual(
      ssoConfigFromEnv({
        WRIT_OIDC_ISSUER: 'https://login.example.com',
        WRIT_OIDC_CLIENT_ID: 'writ',
        WRIT_CHANNEL_KEY: '/keys/serve.key',
        WRIT_APPROVERS_FILE: '/etc/writ/people.json',
      }),
      {
        issuer: 'https://login.example.com',
        clientId: 'writ',
        channelKeyPath: '/keys/serve.key',
        channelName: 'writ-serve',
        approversFile: '/etc/writ/people.json',
      },
    );
  });

  test('an issuer without the rest, or a provider over plain http elsewhere, is refused with what to do', () => {
    assert.throws(
      () => ssoConfigFromEnv({ WRIT_OIDC_ISSUER: 'https://login.example.com', WRIT_OIDC_CLIENT_ID: 'writ' }),
      /but WRIT_CHANNEL_KEY, WRIT_APPROVERS_FILE are not$/,
    );
    const rest = { WRIT_OIDC_CLIENT_ID: 'writ', WRIT_CHANNEL_KEY: '/k', WRIT_APPROVERS_FILE: '/p' };
    assert.throws(
      () => ssoConfigFromEnv({ ...rest, WRIT_OIDC_ISSUER: 'http://login.example.com' }),
      /must be an https URL \(http only on this machine\)/,
    );
    assert.throws(() => ssoConfigFromEnv({ ...rest, WRIT_OIDC_ISSUER: 'login' }), /must be the provider's issuer URL/);
    assert.equal(
      ssoConfigFromEnv({ ...rest, WRIT_OIDC_ISSUER: 'http://127.0.0.1:9000' })?.issuer,
      'http://127.0.0.1:9000',
    );
  });

  test('a login while the provider does not answer is a 503 that names the provider', async (t) => {
    // Nothing listens on port 9 (discard) here; the login page never touches the ledger.
    const pool = new pg.Pool({ connectionString: 'postgres://127.0.0.1:9/none' });
    t.after(() => pool.end());
    const refuse = () => Promise.reject(new Error('no operations in this test'));
    const serve = await startServe({
      pool,
      port: 0,
      linkSecret: LINK_SECRET,
      sso: {
        issuer: 'http://127.0.0.1:9',
        clientId: 'writ-serve',
        channel: { name: 'writ-serve', privateKey: generateKeyPairSync('ed25519').privateKey },
        writ: { state: refuse, approve: refuse, reject: refuse, awaitingApproval: refuse },
        people: refuse,
      },
    });
    t.after(() => serve.close());
    const login = await fetch(`${serve.url}/login`, { redirect: 'manual' });
    assert.equal(login.status, 503);
    assert.match(await login.text(), /The identity provider http:\/\/127.0.0.1:9 could not be reached or read/);
  });
});
