import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { browserUnavailable } from '../support/browser.js';
import { REPO_ROOT } from '../support/cli.js';
import { ledgerEvents, waitFor } from '../support/writ.js';
import { CHANNEL, ssoStack } from './sso-fixtures.js';

const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');

describe('approving through single sign-on in writ serve', { skip: browserUnavailable() ?? false }, () => {
  test('bob signs in at the provider, sees exactly what he approves, approves, and the ledger holds his sso proof', async (t) => {
    const stack = await ssoStack(t);
    const operationId = await stack.requestByAlice();

    const page = await stack.signIn('bob', '/approvals');
    await waitFor('the inbox to list the operation', async () => {
      await page.reload();
      return (await page.locator('table.inbox').innerText()).includes(operationId);
    });
    const inbox = await page.locator('main').innerText();
    assert.match(inbox, /Signed in as bob/);
    assert.match(inbox, /alice\s+raise tier after renewal\s+high/);
    await page.screenshot({ path: join(stack.dir, 'inbox.png'), fullPage: true });

    await page.click(`a[href="/approvals/${operationId}"]`);
    const state = await stack.harness.writ.state(operationId);
    const shown = await page.locator('main').innerText();
    assert.match(shown, /Requested by\s+alice \(user\) · identity verified/);
    assert.match(shown, /Why\s+raise tier after renewal/);
    assert.match(shown, /Risk\s+high/);
    assert.match(shown, /Rules that matched\s+account-changes-need-a-manager/);
    assert.match(shown, new RegExp(`Approval digest\\s+${state.approvals.digest}`));
    assert.match(shown, /Deadline\s+\d{4}-\d\d-\d\d \d\d:\d\d/);
    assert.match(shown, /Step 1: update postgres:public.accounts\/42/i);
    assert.match(await page.locator('pre.before').innerText(), /"tier": "silver"/);
    assert.match(await page.locator('pre.after').innerText(), /"tier": "gold"/);
    await page.fill('textarea[name=reason]', 'renewal signed, checked the contract');
    await page.screenshot({ path: join(stack.dir, 'approval-page.png'), fullPage: true });

    await page.click('button[value=approve]');
    assert.match(
      await page.locator('[role=status]').innerText(),
      /Approved\s+Your approval was counted; no more are needed/,
    );
    await page.screenshot({ path: join(stack.dir, 'approved.png'), fullPage: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'sso-approved.png'), fullPage: true });
    const result = await stack.harness.writ.result(operationId);
    assert.equal(result.outcome, 'succeeded');

    const granted = (await ledgerEvents(stack.harness.ledger, operationId)).find((e) => e.type === 'approval.granted');
    assert.ok(granted, 'an approval.granted record');
    const identity = granted.payload.identity as Record<string, unknown>;
    assert.equal(granted.payload.approver, 'bob');
    assert.equal(granted.payload.identityVerified, true);
    assert.equal(identity.channel, 'sso');
    assert.equal(identity.id, 'bob');
    assert.equal(identity.channelName, CHANNEL);
    assert.equal(identity.issuer, stack.idp.issuer);
    assert.equal(identity.subject, 'bob');
    assert.equal(typeof identity.authTime, 'number');
    // The record carries the provider's ID token and writ serve's assertion, for offline re-checks.
    assert.equal(decodeJwt(identity.token as string).sub, 'bob');
    const assertion = decodeJwt(identity.assertion as string);
    assert.equal(assertion.op, operationId);
    assert.equal(assertion.digest, state.approvals.digest);
    assert.equal(assertion.channel, 'sso');
  });

  test('bob rejects with a reason: the operation is rejected and the rejection on record carries his sso proof', async (t) => {
    const stack = await ssoStack(t);
    const operationId = await stack.requestByAlice();
    const page = await stack.signIn('bob', `/approvals/${operationId}`);
    await page.fill('textarea[name=reason]', 'the renewal is not signed yet');
    await page.click('button[value=reject]');
    assert.match(await page.locator('[role=status]').innerText(), /Rejected\s+Your rejection was counted/);
    assert.equal((await stack.harness.writ.result(operationId)).outcome, 'rejected');
    const rejected = (await ledgerEvents(stack.harness.ledger, operationId)).find(
      (e) => e.type === 'approval.rejected',
    );
    assert.ok(rejected, 'an approval.rejected record');
    assert.equal(rejected.payload.identityVerified, true);
    assert.equal((rejected.payload.identity as Record<string, unknown>).channel, 'sso');
    assert.equal(decodeJwt((rejected.payload.identity as Record<string, string>).assertion!).decision, 'reject');
  });
});
