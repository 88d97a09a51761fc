/**
 * The Temporal Web UI, driven in headless Chromium, showing what Writ puts there: the list
 * filtered by `WritState="awaiting_approval"`, and an operation's summary, static details and
 * current details (Temporal's user metadata, set by WritClient.start and the workflow's
 * setCurrentDetails). The UI is a single-page app: every step waits for the content it needs.
 * Shared by the dev server's test (test/webui) and the production topology's (test/topology).
 * Screenshots go to test-artifacts/<prefix>-*.png.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { FrameLocator, Page } from 'playwright-core';
import type { WritClient } from '../../src/client.js';
import { launchChromium } from './browser.js';
import { REPO_ROOT } from './cli.js';
import { waitUntilListed } from './visibility.js';

const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');

export interface WebUiWalk {
  /** The UI's base URL. */
  ui: string;
  client: Client;
  writ: WritClient;
  actor: string;
  /** Waits for approval from one of `managers` (the approver is `bob`), policy `policyId`. */
  waiting: { operationId: string; correlationId: string };
  /** Already closed as succeeded. */
  done: { operationId: string };
  policyId: string;
  /** Screenshot names: test-artifacts/<prefix>-*.png. */
  prefix: string;
  after: (fn: () => Promise<void>) => void;
}

/** Visibility is eventually consistent: wait until the list API agrees before asking the UI. */
/** The user metadata panels render their markdown in an iframe that follows the panel's heading. */
function panel(page: Page, heading: 'Summary' | 'Details' | 'Current Details'): FrameLocator {
  return page.frameLocator(`xpath=//h3[normalize-space()="${heading}"]/following::iframe[@title="output"][1]`);
}

/**
 * Current details come from a query the UI sends to a worker; on a busy machine that query can
 * time out and leave the panel empty until the user presses R ("Press the R for freshness"),
 * so the wait does what a user would: press R and look again.
 */
async function panelText(
  page: Page,
  heading: 'Summary' | 'Details' | 'Current Details',
  expected: string | RegExp,
): Promise<string> {
  const body = panel(page, heading).locator('body');
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await body.getByText(expected).first().waitFor({ timeout: 10_000 });
        break;
      } catch (error) {
        if (heading !== 'Current Details' || attempt === 4) throw error;
        await page.keyboard.press('r');
      }
    }
  } catch (error) {
    await page.screenshot({ path: join(ARTIFACTS, `${currentPrefix}-failure.png`), fullPage: true });
    throw new Error(
      `${heading} never showed ${expected}; it shows: ${(await body.innerText({ timeout: 1_000 }).catch(() => '(nothing)')).replace(/\s+/g, ' ')} (test-artifacts/${currentPrefix}-failure.png)`,
      { cause: error },
    );
  }
  return (await body.innerText()).replace(/\s+/g, ' ').trim();
}

async function filter(page: Page, query: string): Promise<void> {
  const input = page.getByPlaceholder('Enter a query');
  if (!(await input.isVisible())) await page.getByTestId('toggle-manual-query').click();
  await input.fill(query);
  await input.press('Enter');
  // The list reflects the query in the URL once it has applied it.
  await page.waitForURL((url) => url.searchParams.get('query') === query);
}

let currentPrefix = 'webui';

export async function walkWebUi(walk: WebUiWalk): Promise<void> {
  const { client, writ, actor, waiting, done, prefix } = walk;
  currentPrefix = prefix;
  mkdirSync(ARTIFACTS, { recursive: true });
  await waitUntilListed(client, 'WritState = "awaiting_approval"', waiting.operationId);
  await waitUntilListed(client, 'WritState = "closed:succeeded"', done.operationId);

  const browser = await launchChromium();
  walk.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.setDefaultTimeout(20_000);
  const ui = walk.ui;

  // Both operations of this test, so the filtered list below is judged against a list that does show the other one.
  await page.goto(`${ui}/namespaces/default/workflows`);
  await filter(page, `WritActor="${actor}"`);
  await page.getByRole('link', { name: waiting.operationId }).waitFor();
  await page.getByRole('link', { name: done.operationId }).waitFor();
  await page.screenshot({ path: join(ARTIFACTS, `${prefix}-by-actor.png`), fullPage: true });

  await filter(page, 'WritState="awaiting_approval"');
  await page.getByRole('link', { name: waiting.operationId }).waitFor();
  assert.equal(
    await page.getByRole('link', { name: done.operationId }).count(),
    0,
    'the completed low-risk operation is not awaiting approval',
  );
  await page.screenshot({ path: join(ARTIFACTS, `${prefix}-awaiting-approval.png`), fullPage: true });

  await page.getByRole('link', { name: waiting.operationId }).click();
  await page.getByRole('heading', { name: waiting.operationId }).waitFor();
  await page.getByRole('tab', { name: 'User Metadata' }).click();
  const summary = await panelText(page, 'Summary', 'update postgres:public.accounts/42');
  assert.equal(summary, `update postgres:public.accounts/42 for ${actor}: raise tier after renewal`);
  const details = await panelText(page, 'Details', waiting.operationId);
  assert.match(details, new RegExp(`Requested by ${actor} \\(user; sales-ops\\)`));
  assert.match(details, /Why raise tier after renewal/);
  assert.match(details, new RegExp(`Correlation ${waiting.correlationId}`));
  assert.match(details, /1\. postgres\.update public\.accounts\/42/);
  const current = await panelText(page, 'Current Details', 'awaiting_approval');
  assert.match(current, /State: awaiting_approval/);
  assert.match(current, new RegExp(`Risk: high; policy ${walk.policyId}`));
  assert.match(current, /Approvals: 1 still needed of 1 from managers/);
  assert.match(current, /Steps: 1\. update public\.accounts\/42: pending/);
  assert.match(current, /Path: planned → validated → awaiting_approval/);
  await page.screenshot({ path: join(ARTIFACTS, `${prefix}-operation-awaiting.png`), fullPage: true });

  await page.getByRole('tab', { name: 'Search Attributes' }).click();
  await page.getByText('awaiting_approval').first().waitFor();
  assert.ok(await page.getByText('WritState').first().isVisible(), 'the Search Attributes tab names WritState');

  // Current details are current: approve, and the same page shows the closed operation.
  assert.equal((await writ.approve(waiting.operationId, { approver: 'bob', reason: 'renewal signed' })).accepted, true);
  assert.equal((await writ.result(waiting.operationId)).outcome, 'succeeded');
  // Reload first, then pick the tab: a click just before a reload may not have reached the URL yet,
  // and the reload would come back on the Search Attributes tab.
  await page.reload();
  await page.getByRole('tab', { name: 'User Metadata' }).click();
  const closed = await panelText(page, 'Current Details', 'closed (succeeded)');
  assert.match(closed, /State: closed \(succeeded\)/);
  assert.match(closed, /Approvals: 0 still needed of 1 from managers/);
  assert.match(closed, /Steps: 1\. update public\.accounts\/42: verified/);
  await page.screenshot({ path: join(ARTIFACTS, `${prefix}-operation-closed.png`), fullPage: true });
}
