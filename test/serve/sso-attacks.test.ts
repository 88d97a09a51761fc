import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { browserUnavailable } from '../support/browser.js';
import type { WritHarness } from '../support/writ.js';
import { ledgerEvents } from '../support/writ.js';
import { ssoStack } from './sso-fixtures.js';

/** The session cookie the browser holds for writ serve, as an attacker who stole nothing else would use it. */
async function sessionCookie(page: Page): Promise<string> {
  const cookie = (await page.context().cookies()).find((c) => c.name === 'writ_session');
  assert.ok(cookie, 'the browser holds a writ serve session');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Lax');
  return `writ_session=${cookie.value}`;
}

async function postDecision(url: string, form: Record<string, string>, cookie?: string) {
  const response = await fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
    body: new URLSearchParams(form).toString(),
  });
  return { status: response.status, text: await response.text() };
}

/** Nothing was decided: the operation still waits, and the ledger holds no decision about it. */
async function nothingDecided(harness: WritHarness, operationId: string): Promise<void> {
  const state = await harness.writ.state(operationId);
  assert.equal(state.state, 'awaiting_approval');
  assert.equal(state.approvals.granted.length, 0);
  const decisions = (await ledgerEvents(harness.ledger, operationId)).filter(
    (e) => e.type.startsWith('approval.') && e.type !== 'approval.requested',
  );
  assert.deepEqual(
    decisions.map((e) => e.type),
    [],
  );
}

describe('attacks on the approval pages', { skip: browserUnavailable() ?? false }, () => {
  test('a form posted without the session’s CSRF token, or with a wrong one, decides nothing; logins never return offsite; signing out ends the session', async (t) => {
    const stack = await ssoStack(t);
    const operationId = await stack.requestByAlice();
    const page = await stack.signIn('bob', `/approvals/${operationId}`);
    const cookie = await sessionCookie(page);
    const digest = (await stack.harness.writ.state(operationId)).approvals.digest!;
    const url = `${stack.serve.url}/approvals/${operationId}`;
    const form = { decision: 'approve', reason: 'looks fine', digest };

    const without = await postDecision(url, form, cookie);
    assert.equal(without.status, 403);
    assert.match(without.text, /did not carry this session’s CSRF token/);
    const wrong = await postDecision(url, { ...form, csrf: 'A'.repeat(43) }, cookie);
    assert.equal(wrong.status, 403);
    assert.match(wrong.text, /CSRF token/);
    await nothingDecided(stack.harness, operationId);

    // A login link that names an address elsewhere to return to lands on the inbox instead.
    await page.goto(`${stack.serve.url}/login?return=${encodeURIComponent('https://evil.example/')}`);
    await page.waitForURL(`${stack.serve.url}/approvals`);

    // Signing out ends the session on the server: the old cookie opens nothing.
    const current = await sessionCookie(page);
    await page.click('form.signout button');
    assert.match(await page.locator('main').innerText(), /You are signed out/);
    const after = await fetch(`${stack.serve.url}/approvals`, { headers: { cookie: current }, redirect: 'manual' });
    assert.equal(after.status, 302);
    assert.equal(after.headers.get('location'), '/login?return=%2Fapprovals');
  });

  test('without a session the pages send the browser to sign in, and a posted decision is refused', async (t) => {
    const stack = await ssoStack(t);
    const operationId = await stack.requestByAlice();
    const url = `${stack.serve.url}/approvals/${operationId}`;

    const opened = await fetch(url, { redirect: 'manual' });
    assert.equal(opened.status, 302);
    assert.equal(opened.headers.get('location'), `/login?return=%2Fapprovals%2F${operationId}`);
    const login = await fetch(`${stack.serve.url}${opened.headers.get('location')}`, { redirect: 'manual' });
    assert.equal(login.status, 302);
    const authorize = new URL(login.headers.get('location')!);
    assert.equal(authorize.origin, stack.idp.issuer);
    assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
    for (const param of ['code_challenge', 'state', 'nonce'])
      assert.ok((authorize.searchParams.get(param) ?? '').length >= 32, `${param} is long and random`);
    assert.equal(authorize.searchParams.get('redirect_uri'), `${stack.serve.url}/callback`);

    const posted = await postDecision(url, { decision: 'approve', reason: 'x', digest: 'a'.repeat(64), csrf: 'x' });
    assert.equal(posted.status, 401);
    assert.match(posted.text, /You are not signed in, so nothing was decided/);
    const forged = await fetch(`${stack.serve.url}/callback?code=stolen&state=guessed`, { redirect: 'manual' });
    assert.equal(forged.status, 400);
    assert.match(await forged.text(), /This sign-in was not started here/);
    await nothingDecided(stack.harness, operationId);
  });

  test('the requester signs in and approves her own request: refused by the workflow, on the record, shown on the page', async (t) => {
    const stack = await ssoStack(t);
    const operationId = await stack.requestByAlice();
    const page = await stack.signIn('alice', `/approvals/${operationId}`);
    await page.fill('textarea[name=reason]', 'I approve my own change');
    await page.click('button[value=approve]');
    assert.match(
      await page.locator('[role=status]').innerText(),
      /Refused\s+the requester cannot approve their own operation/,
    );
    await page.screenshot({ path: join(stack.dir, 'own-approval-refused.png'), fullPage: true });

    const state = await stack.harness.writ.state(operationId);
    assert.equal(state.state, 'awaiting_approval');
    assert.equal(state.approvals.granted.length, 0);
    const refused = (await ledgerEvents(stack.harness.ledger, operationId)).filter(
      (e) => e.type === 'approval.refused',
    );
    assert.equal(refused.length, 1);
    assert.equal(refused[0]!.payload.approver, 'alice');
    assert.match(String(refused[0]!.payload.refusal), /the requester cannot approve their own operation/);
  });

  test('a session past its 15 minutes decides nothing: the page asks for a new sign-in', async (t) => {
    const stack = await ssoStack(t);
    const operationId = await stack.requestByAlice();
    const page = await stack.signIn('bob', `/approvals/${operationId}`);
    await page.fill('textarea[name=reason]', 'approving from a tab left open');
    stack.skewServeClock(16 * 60_000);
    await page.click('button[value=approve]');
    assert.match(await page.locator('main').innerText(), /Your session has ended, so nothing was decided/);
    await page.screenshot({ path: join(stack.dir, 'stale-session.png'), fullPage: true });
    await nothingDecided(stack.harness, operationId);
  });

  test('a session ends when its ID token expires, before the worker would refuse a proof carrying it', async (t) => {
    const stack = await ssoStack(t, {}, 60);
    const operationId = await stack.requestByAlice();
    const page = await stack.signIn('bob', `/approvals/${operationId}`);
    await page.fill('textarea[name=reason]', 'approving after the login token expired');
    stack.skewServeClock(90_000);
    await page.click('button[value=approve]');
    assert.match(await page.locator('main').innerText(), /Your session has ended, so nothing was decided/);
    await nothingDecided(stack.harness, operationId);
  });

  test('where a rule asks for a fresh login, an older sign-in is sent back to the provider with max_age and cannot decide', async (t) => {
    const stack = await ssoStack(t, { loginWithinSeconds: 60 });
    const operationId = await stack.requestByAlice();
    const page = await stack.signIn('bob', `/approvals/${operationId}`);
    const cookie = await sessionCookie(page);
    const csrf = await page.locator('form:not(.signout) input[name=csrf]').inputValue();
    const digest = (await stack.harness.writ.state(operationId)).approvals.digest!;
    stack.skewServeClock(120_000);

    const opened = await fetch(`${stack.serve.url}/approvals/${operationId}`, {
      headers: { cookie },
      redirect: 'manual',
    });
    assert.equal(opened.status, 302);
    assert.equal(opened.headers.get('location'), `/login?return=%2Fapprovals%2F${operationId}&max_age=60`);
    const login = await fetch(`${stack.serve.url}${opened.headers.get('location')}`, { redirect: 'manual' });
    assert.equal(new URL(login.headers.get('location')!).searchParams.get('max_age'), '60');
    const url = `${stack.serve.url}/approvals/${operationId}`;
    const posted = await postDecision(url, { decision: 'approve', reason: 'ok', digest, csrf }, cookie);
    assert.equal(posted.status, 401);
    assert.match(posted.text, /needs a sign-in at most 60 s old/);
    await nothingDecided(stack.harness, operationId);
  });
});
