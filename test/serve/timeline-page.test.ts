import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type pg from 'pg';
import type { RunningServe } from '../../src/serve/server.js';
import { startServe } from '../../src/serve/server.js';
import { browserUnavailable, launchChromium } from '../support/browser.js';
import { REPO_ROOT } from '../support/cli.js';
import { LINK_SECRET, operations, recordCount } from './fixtures.js';

const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');
const XSS = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';

describe('the timeline page in a real browser', { skip: browserUnavailable() ?? false }, () => {
  const cleanups: Array<() => Promise<void>> = [];
  let pool: pg.Pool;
  let serve: RunningServe;
  let browser: Browser;
  const ids = { approved: '', rolledBack: '', hostile: '' };

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const ops = await operations({ after: (fn) => cleanups.push(fn) });
    pool = ops.pool;
    ids.approved = await ops.approved();
    ids.rolledBack = await ops.rolledBack();
    ids.hostile = await ops.plain({ intent: `raise tier ${XSS}` });
    serve = await startServe({ pool, port: 0, linkSecret: LINK_SECRET });
    cleanups.push(() => serve.close());
    browser = await launchChromium();
    cleanups.push(() => browser.close());
  });

  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  /** Opens a page and keeps every URL it asked for, to prove it fetched nothing from elsewhere. */
  async function open(url: string): Promise<{ page: Page; status: number; text: string; requested: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    cleanups.push(() => page.close());
    const requested: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    const response = await page.goto(url);
    return { page, status: response!.status(), text: await page.locator('body').innerText(), requested };
  }

  test('an operation that waited for approval reads, for a non-engineer, who asked, who approved and what changed', async () => {
    const { page, status, text, requested } = await open(serve.link(ids.approved, 'compliance-lead').timeline);
    assert.equal(status, 200);
    await page.screenshot({ path: join(ARTIFACTS, 'timeline-approved.png'), fullPage: true });

    assert.match(text, /Operation [\w-]+/);
    assert.match(text, /Succeeded\s+succeeded: every step was made and read back as written/);
    // The directory's groups (alice is a manager in the fixtures' directory), not the request's claim.
    assert.match(text, /Requested by\s+alice \(user, groups managers; identity not verified\)/);
    assert.match(text, /Why\s+raise tier after renewal/);
    assert.match(text, /Status\s+closed: succeeded/);
    assert.match(text, /Policy\s+serve-policy, risk high, 1 approval\(s\) required/);
    assert.deepEqual(
      await page.locator('ol.lifecycle li').allInnerTexts(),
      [
        'planned',
        'validated',
        'awaiting approval',
        'approved',
        'executing',
        'executed',
        'verifying',
        'verified',
        'closed',
      ],
      'the lifecycle, in order',
    );
    assert.match(text, /1\s+update postgres:public\.accounts\/42\s+made and verified\s+tier: "silver" -> "platinum"/);
    assert.match(text, /1 required; 1 granted, 1 refused\./);
    assert.match(
      text,
      /approval by alice \(identity not verified\) refused: the requester cannot approve their own operation.*\(the requester themselves\)/,
    );
    assert.match(text, /approved by bob \(identity not verified\): renewal confirmed by phone \(not the requester\)/);
    const whoDid = async (what: string) =>
      page.locator('table.events tr', { hasText: what }).locator('td').nth(2).innerText();
    assert.equal(
      await whoDid('approved by bob (identity not verified): renewal confirmed'),
      'bob',
      'a decision is shown under the person who made it',
    );
    assert.equal(await whoDid('approval by alice (identity not verified) refused'), 'alice');
    assert.equal(await whoDid('alice (identity not verified) asked for 1 step(s)'), 'alice');
    assert.match(text, /None: nothing had to be undone\./);
    assert.match(text, /Verdict: succeeded: every step was made and read back as written/);
    assert.match(text, /step 1 verified: the target reads back as written/);
    assert.match(text, /Shown to compliance-lead through a signed link valid until/);
    assert.deepEqual(requested, [requested[0]], 'the page fetched nothing but itself');
  });

  test('a rolled-back operation shows the failed verification and every compensation', async () => {
    const { page, status, text } = await open(serve.link(ids.rolledBack, 'compliance-lead').timeline);
    assert.equal(status, 200);
    await page.screenshot({ path: join(ARTIFACTS, 'timeline-rolled-back.png'), fullPage: true });

    assert.match(text, /Rolled back\s+rolled back: a step failed, and every step made before it was undone/);
    assert.match(text, /Requested by\s+alice/);
    assert.match(text, /Why\s+move Acme to a higher balance and Globex to platinum/);
    assert.match(text, /Approvals\s+None required by policy\./i);
    assert.match(text, /1\s+update postgres:public\.accounts\/42\s+rolled back\s+had changed balance: 100\.5 -> 250/);
    assert.match(text, /2\s+update postgres:public\.accounts\/43\s+rolled back\s+.*step 2 failed verification/);
    assert.match(text, /2 step\(s\) rolled back\./);
    assert.match(text, /step 1 rolled back/);
    assert.match(text, /step 2 rolled back/);
    assert.match(text, /step 1 verified: the target reads back as written/);
    assert.match(text, /step 2 failed verification/);
    assert.equal(await page.locator('li.failed').count(), 1, 'the failed read-back stands out');
    assert.deepEqual((await page.locator('ol.lifecycle li').allInnerTexts()).slice(-4), [
      'verification failed',
      'compensating',
      'compensated',
      'closed',
    ]);
  });

  test('text from the ledger is shown as text: a <script> in an intent or a requester runs nothing', async () => {
    const { page, status, text } = await open(
      serve.link(ids.hostile, '<b>eve</b><script>window.__pwned = 3</script>').timeline,
    );
    assert.equal(status, 200);
    assert.ok(text.includes(`raise tier ${XSS}`), 'the intent, exactly as written');
    assert.ok(
      text.includes('Shown to <b>eve</b><script>window.__pwned = 3</script>'),
      'the requester, exactly as written',
    );
    assert.equal(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned), undefined);
    assert.equal(await page.locator('script').count(), 0);
    assert.equal(await page.locator('img').count(), 0);
    assert.equal(await page.locator('b').count(), 0);
  });

  test('a tampered link shows a page that says it was refused, and records nothing', async () => {
    const link = new URL(serve.link(ids.approved, 'compliance-lead').timeline);
    link.searchParams.set('by', 'someone-else');
    const before = await recordCount(pool);
    const { status, text } = await open(link.toString());
    assert.equal(status, 403);
    assert.match(text, /This link is refused/);
    assert.match(text, /signature does not match: the link was changed or cut short/);
    assert.equal(await recordCount(pool), before);
  });
});
