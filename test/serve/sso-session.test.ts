import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, test } from 'node:test';
import { SessionStore } from '../../src/serve/sso-session.js';

const LOGIN = { person: 'bob', idToken: 'x.y.z', issuer: 'https://login.example.com', subject: 'bob', authTime: 0 };
const PENDING = { state: 's', nonce: 'n', codeVerifier: 'v', returnTo: '/approvals' };
const withCookie = (cookie: string) => ({ headers: { cookie } }) as IncomingMessage;

describe('writ serve sessions', () => {
  test('behind https the cookie is __Host-, Secure, HttpOnly and SameSite=Lax, and lives no longer than the session', () => {
    let now = 1_000_000;
    const store = new SessionStore({ ttlMs: 15 * 60_000, now: () => now, secure: true });
    const session = store.signedIn(store.startLogin(PENDING), LOGIN, now / 1000 + 3600);
    assert.equal(
      store.cookie(session),
      `__Host-writ_session=${session.id}; Path=/; HttpOnly; SameSite=Lax; Max-Age=900; Secure`,
    );
    assert.equal(store.find(withCookie(`__Host-writ_session=${session.id}`))?.login?.person, 'bob');
    // The same id under the plain name is not this server's cookie behind https.
    assert.equal(store.find(withCookie(`writ_session=${session.id}`)), undefined);
    now += 15 * 60_000;
    assert.equal(store.find(withCookie(`__Host-writ_session=${session.id}`)), undefined);
  });

  test('signing in replaces the session id and CSRF token of the login under way', () => {
    const store = new SessionStore({ ttlMs: 60_000, now: () => 0, secure: false });
    const pending = store.startLogin(PENDING);
    const signedIn = store.signedIn(pending, LOGIN, 3600);
    assert.notEqual(signedIn.id, pending.id);
    assert.notEqual(signedIn.csrf, pending.csrf);
    assert.equal(store.find(withCookie(`writ_session=${pending.id}`)), undefined);
  });
});
