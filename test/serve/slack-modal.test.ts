import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type pg from 'pg';
import type { EvidenceLookup } from '../../src/serve/evidence.js';
import { findEvidence } from '../../src/serve/evidence.js';
import type { RunningServe } from '../../src/serve/server.js';
import { startServeWith } from '../../src/serve/server.js';
import { eraseSubject } from '../../src/privacy/erase.js';
import type { SlackApiServer } from '../support/slack-api-server.js';
import { startSlackApiServer } from '../support/slack-api-server.js';
import { ACCOUNT_NAMES } from '../support/personal-data.js';
import { waitFor } from '../support/writ.js';
import type { Operations } from './fixtures.js';
import { LINK_SECRET, SLACK_SECRET, operations } from './fixtures.js';
import { slackHeaders as signed } from './slack-approvals-fixtures.js';
import {
  ASKER,
  TEAM,
  accessRecords,
  assertPage,
  buttonsOf,
  clickBody,
  commandBody,
  eventSeqs,
  textsOf,
} from './slack-modal-fixtures.js';

interface Reply {
  text: string;
  blocks?: Array<{ type: string; text?: { text: string }; elements?: Array<Record<string, unknown>> }>;
}

describe('the Full timeline modal of /what-happened', () => {
  const cleanups: Array<() => Promise<void>> = [];
  let ops: Operations;
  let pool: pg.Pool;
  let slack: SlackApiServer;
  let serve: RunningServe;
  let lookups = 0;
  let triggers = 0;
  const logs: string[] = [];
  const now = () => Math.floor(Date.now() / 1000);

  before(async () => {
    // Account names and tiers are personal data: sealed in the ledger, opened for whoever reads.
    ops = await operations({ after: (fn) => cleanups.push(fn) }, { personalData: ACCOUNT_NAMES });
    pool = ops.pool;
    slack = await startSlackApiServer();
    cleanups.push(() => slack.close());
    const counting: EvidenceLookup = (p, id, options) => {
      lookups++;
      return findEvidence(p, id, options);
    };
    // No Slack approvals: the modal needs only the bot token.
    serve = await startServeWith(
      {
        pool,
        port: 0,
        linkSecret: LINK_SECRET,
        slackSigningSecret: SLACK_SECRET,
        slackTeamIds: [TEAM],
        slackViews: { botToken: slack.token, slackApiUrl: `${slack.url}/api/` },
      },
      { lookup: counting, slackBudgetMs: 60_000, log: (line) => logs.push(line) },
    );
    cleanups.push(() => serve.close());
  });

  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  const post = (path: string, body: string, headers = signed(body, now())) =>
    fetch(`${serve.url}${path}`, { method: 'POST', body, headers });
  const ask = async (id: string) => (await (await post('/slack/what-happened', commandBody(id))).json()) as Reply;
  const viewCalls = () => slack.calls.filter((call) => call.method.startsWith('views.'));
  /** Clicks as Slack would, and waits for the view the click makes Writ send to Slack. */
  const press = async (options: Omit<Parameters<typeof clickBody>[0], 'trigger'>) => {
    const before = viewCalls().length;
    const response = await post('/slack/interactions', clickBody({ ...options, trigger: `trigger-${++triggers}` }));
    assert.equal(response.status, 200, await response.text());
    await waitFor('the view sent to Slack', async () => viewCalls().length > before);
    const call = viewCalls().at(-1)!;
    const stored = slack.views.find((view) => view.view === call.args.view)!;
    return { call, view: call.args.view as Record<string, unknown>, stored };
  };

  test('pressing Full timeline on the answer about an approved, rolled-back write opens the whole story in a modal, recorded once', async () => {
    const operationId = await ops.approvedThenRolledBack();
    const reply = await ask(operationId);
    assert.match(reply.text, new RegExp(`operation ${operationId}: closed, rolled_back`), 'the text answer is kept');
    const actions = reply.blocks!.filter((block) => block.type === 'actions').flatMap((block) => block.elements!);
    assert.deepEqual(
      actions.map((button) => [button.action_id, button.value]),
      [['writ_full_timeline', operationId]],
    );
    for (const block of reply.blocks!) assert.ok((block.text?.text.length ?? 0) <= 3000);

    const accessBefore = (await accessRecords(pool, operationId)).length;
    // Someone else in the workspace presses it: they are who reads, and who is recorded.
    const { call, view } = await press({ action: 'writ_full_timeline', value: operationId, user: 'UREADER' });
    assert.equal(call.method, 'views.open');
    assert.equal(call.args.trigger_id, `trigger-${triggers}`);
    const link = assertPage(view, `slack:${TEAM}/UREADER`);
    assert.deepEqual(buttonsOf(view), [], 'one page: nothing to page through');
    assert.equal((view.title as { text: string }).text, 'Full timeline');

    const shown = textsOf(view).join('\n');
    assert.match(shown, /\*Requested by\* alice \(user/);
    assert.match(shown, /\*Why\* move Acme to a higher balance and Globex to platinum/);
    assert.match(shown, /\*Lifecycle\* [^\n]*awaiting approval → [^\n]*compensating/);
    assert.match(shown, /\*Approvals\*\n1 required; 1 granted/);
    assert.match(shown, /bob[^\n]*balance confirmed by finance[^\n]*\(not the requester\)/);
    assert.match(
      shown,
      /\*What changed\*\n1\. `update postgres:public\.accounts\/42`: rolled back, had changed balance: 100\.5 -&gt; 250\n2\. [^\n]*step 2 failed verification/,
    );
    assert.match(shown, /\*Compensations \(rollbacks\)\*\n2 step\(s\) rolled back\.\n• [^\n]*step 2: rolling back/);
    const evidence = (await findEvidence(pool, operationId, { timeline: true }))!;
    assert.deepEqual(
      eventSeqs(view),
      evidence.events!.map((e) => e.seq),
      'every recorded event, in order',
    );
    for (const event of evidence.events!)
      assert.ok(shown.includes(`*#${event.seq}* · ${event.occurredAt.replace('T', ' ').replace(/Z$/, ' UTC')}`));

    const records = await accessRecords(pool, operationId);
    assert.equal(records.length, accessBefore + 1, 'one access record for the one view served');
    const record = records.at(-1)!;
    assert.equal(record.actor.id, `slack:${TEAM}/UREADER`);
    assert.equal(record.payload.format, 'slack-modal');
    assert.equal(record.payload.page, 1);
    assert.equal(record.payload.pages, 1);
    assert.equal(record.payload.linkExpiresAt, new Date(Number(link.searchParams.get('exp')) * 1000).toISOString());
    assert.equal(
      record.payload.sha256,
      createHash('sha256').update(JSON.stringify(view)).digest('hex'),
      'the record names exactly the view Slack received',
    );
    assert.equal((await fetch(link)).status, 200, 'the link at the bottom opens the timeline page');
  });

  test('a long timeline is paged: every page within limits, ending with the signed link, every event shown once', async () => {
    const steps = 40;
    await pool.query(
      `INSERT INTO accounts SELECT g, 'Account ' || g, 'silver', 0 FROM generate_series(1000, ${999 + steps}) g`,
    );
    const operationId = await ops.plain({
      intent: 'move forty accounts to gold',
      steps: Array.from({ length: steps }, (_, i) => ({
        connector: 'postgres',
        action: 'update',
        target: `public.accounts/${1000 + i}`,
        params: { set: { tier: 'gold' } },
      })),
    });
    const requester = `slack:${TEAM}/${ASKER}`;
    const accessBefore = (await accessRecords(pool, operationId)).length;
    let page = await press({ action: 'writ_full_timeline', value: operationId });
    const pages = [page];
    while (buttonsOf(page.view).includes('writ_timeline_next')) {
      page = await press({ action: 'writ_timeline_next', view: page.stored });
      assert.equal(page.call.method, 'views.update');
      assert.equal(page.call.args.view_id, pages[0]!.stored.id, 'the same modal, updated in place');
      pages.push(page);
    }
    assert.ok(pages.length >= 2, `${pages.length} page(s)`);
    pages.forEach(({ view }, i) => {
      assertPage(view, requester);
      assert.deepEqual(JSON.parse(String(view.private_metadata)), { id: operationId, page: i + 1 });
      assert.equal((view.title as { text: string }).text, `Timeline ${i + 1}/${pages.length}`);
    });
    const evidence = (await findEvidence(pool, operationId, { timeline: true }))!;
    assert.ok(evidence.events!.length > 100);
    assert.deepEqual(
      pages.flatMap(({ view }) => eventSeqs(view)),
      evidence.events!.map((e) => e.seq),
      'every event exactly once, in order, across the pages',
    );
    assert.match(
      textsOf(pages[0]!.view).join('\n'),
      /40\. `update postgres:public\.accounts\/1039`: made and verified/,
    );

    const back = await press({ action: 'writ_timeline_previous', view: page.stored });
    assert.equal(JSON.parse(String(back.view.private_metadata)).page, pages.length - 1);
    const recorded = (await accessRecords(pool, operationId)).slice(accessBefore).map((r) => r.payload.page);
    assert.deepEqual(recorded, [...pages.map((_, i) => i + 1), pages.length - 1], 'one record per page served');
  });

  test('forged, stale, replayed and unpinned clicks are refused before any lookup and open nothing', async () => {
    const operationId = await ops.plain();
    // A click Slack really sent, answered: the replay is this very request again.
    const first = clickBody({ action: 'writ_full_timeline', value: operationId, trigger: `trigger-${++triggers}` });
    const firstHeaders = signed(first, now());
    const opened = viewCalls().length;
    assert.equal((await post('/slack/interactions', first, firstHeaders)).status, 200);
    await waitFor('the modal', async () => viewCalls().length > opened);
    const view = slack.views.at(-1)!;

    const sent = slack.calls.length;
    const lookupsBefore = lookups;
    const recordsBefore = (await accessRecords(pool, operationId)).length;
    const sign = (overrides: Partial<Parameters<typeof clickBody>[0]>): [string, Record<string, string>] => {
      const body = clickBody({
        action: 'writ_full_timeline',
        value: operationId,
        trigger: `t-${++triggers}`,
        ...overrides,
      });
      return [body, signed(body, now())];
    };
    const [body, good] = sign({});
    const sig = good['x-slack-signature']!;
    const flipped = `${sig.slice(0, -1)}${sig.endsWith('0') ? '1' : '0'}`;
    const notOurs = { ...view, view: { ...view.view, callback_id: 'someone_elses_modal' } };
    const refusals: Array<[string, [string, Record<string, string>], number, RegExp]> = [
      [
        'a forged signature',
        [body, { ...good, 'x-slack-signature': flipped }],
        401,
        /X-Slack-Signature does not match/,
      ],
      [
        'another secret',
        [body, signed(body, now(), 'not-the-signing-secret')],
        401,
        /X-Slack-Signature does not match/,
      ],
      ['a stale timestamp', [body, signed(body, now() - 301)], 401, /s in the past/],
      ['a replay', [first, firstHeaders], 409, /already handled \(a replay\)/],
      ['an unpinned workspace', sign({ team: 'T0002' }), 403, /does not answer Slack workspace "T0002"/],
      ['no user', sign({ user: '' }), 400, /no user id/],
      ['an empty id', sign({ value: '' }), 400, /the button's id: no id given/],
      ['a page before the first', sign({ action: 'writ_timeline_previous', view }), 400, /no page before the first/],
      ["a modal not Writ's", sign({ action: 'writ_timeline_next', view: notOurs }), 400, /not inside a Writ timeline/],
    ];
    for (const [what, [sentBody, headers], status, message] of refusals) {
      const response = await post('/slack/interactions', sentBody, headers);
      assert.equal(response.status, status, what);
      assert.match(await response.text(), message, what);
    }
    assert.equal(lookups, lookupsBefore, 'nothing was looked up');
    assert.equal(slack.calls.length, sent, 'nothing was sent to Slack');
    assert.equal((await accessRecords(pool, operationId)).length, recordsBefore, 'nothing was recorded');
  });

  test('sealed personal values are shown as the timeline page shows them: opened while held, then as erased', async () => {
    await pool.query(`INSERT INTO accounts VALUES (77, 'Initech', 'silver', 0)`);
    const operationId = await ops.plain({
      steps: [
        {
          connector: 'postgres',
          action: 'update',
          target: 'public.accounts/77',
          params: { set: { name: 'Umbrella' } },
        },
      ],
    });
    const held = textsOf((await press({ action: 'writ_full_timeline', value: operationId })).view).join('\n');
    assert.match(held, /name: "Initech" -&gt; "Umbrella"/);
    assert.doesNotMatch(held, /writ:sealed/);

    await eraseSubject(pool, { subject: 'account:public.accounts/77', reason: 'GDPR art. 17 request R-9', by: 'dpo' });
    const { view } = await press({ action: 'writ_full_timeline', value: operationId });
    const erased = textsOf(view).join('\n');
    const described = /name: (\[erased [^\]]+ by dpo: GDPR art\. 17 request R-9\]) -&gt; /.exec(erased);
    assert.ok(described, `the erasure, said as such: ${erased}`);
    assert.doesNotMatch(erased, /Initech|Umbrella/, 'nothing erased is shown');
    const page = await (await fetch(assertPage(view, `slack:${TEAM}/${ASKER}`))).text();
    assert.ok(page.includes(described[1]!), 'the timeline page says the same');
  });
});
