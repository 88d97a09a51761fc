import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type pg from 'pg';
import type { EvidenceLookup } from '../../src/serve/evidence.js';
import { findEvidence } from '../../src/serve/evidence.js';
import type { RunningServe } from '../../src/serve/server.js';
import { startServe, startServeWith } from '../../src/serve/server.js';
import { slackSignature } from '../../src/serve/slack-signature.js';
import { LINK_SECRET, operations, recordCount, SLACK_SECRET, startResponseUrlReceiver } from './fixtures.js';

interface SlackReply {
  response_type: string;
  text: string;
  unfurl_links: boolean;
}

function commandBody(text: string, responseUrl = 'https://hooks.slack.com/commands/T1/1/x', team = 'T0001'): string {
  return new URLSearchParams({
    token: 'legacy-token',
    team_id: team,
    team_domain: 'acme',
    channel_id: 'C1',
    user_id: 'U2147483697',
    user_name: 'dana',
    command: '/what-happened',
    text,
    response_url: responseUrl,
    trigger_id: '1.2.3',
  }).toString();
}

function signed(body: string, timestamp: number, secret = SLACK_SECRET): Record<string, string> {
  return {
    'content-type': 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': slackSignature(secret, String(timestamp), body),
  };
}

/** The URLs of Slack's `<url|label>` links, with Slack's &amp; undone as a Slack client would. */
function slackLinks(text: string): Record<string, string> {
  return Object.fromEntries(
    [...text.matchAll(/<(http[^|>]+)\|(\w+)>/g)].map((m) => [m[2]!, m[1]!.replace(/&amp;/g, '&')]),
  );
}

describe('the Slack /what-happened endpoint', () => {
  const cleanups: Array<() => Promise<void>> = [];
  let pool: pg.Pool;
  let serve: RunningServe;
  let operationId = '';
  let lookups = 0;
  const clock = Date.now();
  const nowSeconds = Math.floor(clock / 1000);

  before(async () => {
    const ops = await operations({ after: (fn) => cleanups.push(fn) });
    pool = ops.pool;
    operationId = await ops.plain({ intent: 'raise tier <after> renewal & send <!channel>' });
    const counting: EvidenceLookup = (p, id, options) => {
      lookups++;
      return findEvidence(p, id, options);
    };
    serve = await startServeWith(
      {
        pool,
        port: 0,
        linkSecret: LINK_SECRET,
        slackSigningSecret: SLACK_SECRET,
        slackTeamIds: ['T0001'],
        now: () => clock,
      },
      // A budget no lookup reaches on a loaded machine: these tests are about the answer, not the clock.
      { lookup: counting, slackBudgetMs: 60_000 },
    );
    cleanups.push(() => serve.close());
  });

  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  const post = (body: string, headers: Record<string, string>) =>
    fetch(`${serve.url}/slack/what-happened`, { method: 'POST', body, headers });

  test("a signed command is answered with what-happened's summary and signed links for that Slack user", async () => {
    const body = commandBody(` ${operationId} `);
    const response = await post(body, signed(body, nowSeconds));
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type')!, /^application\/json/);
    const reply = (await response.json()) as SlackReply;
    assert.equal(reply.response_type, 'ephemeral', 'evidence goes to whoever asked, not to the channel');
    assert.equal(reply.unfurl_links, false, "Slack's unfurler must not use the links (each use is recorded)");
    assert.match(reply.text, new RegExp(`operation ${operationId}: closed, succeeded`));
    assert.match(reply.text, /who asked: +alice/);
    assert.match(reply.text, /verdict: +succeeded: every step was made and read back as written/);
    assert.match(
      reply.text,
      /why: +raise tier &lt;after&gt; renewal &amp; send &lt;!channel&gt;/,
      'ledger text cannot become a Slack mention or link',
    );
    assert.match(reply.text, /Links for <@U2147483697> only, valid until/);

    const links = slackLinks(reply.text);
    assert.deepEqual(Object.keys(links), ['Timeline', 'CSV', 'JSON']);
    const before = await recordCount(pool);
    const page = await fetch(links.Timeline!);
    assert.equal(page.status, 200);
    const recorded = (await pool.query(`SELECT record FROM writ.records ORDER BY seq DESC LIMIT 1`)).rows[0].record;
    assert.equal(recorded.type, 'evidence.viewed');
    assert.equal(
      recorded.actor.id,
      'slack:T0001/U2147483697',
      'the Slack user, within their workspace, is the requester',
    );
    assert.equal(await recordCount(pool), before + 1);
  });

  test('an unknown id and a missing id get an answer that says so, with no links', async () => {
    const unknown = commandBody('no-such-operation');
    const reply = (await (await post(unknown, signed(unknown, nowSeconds))).json()) as SlackReply;
    assert.match(reply.text, /Nothing is recorded under `no-such-operation`/);
    assert.deepEqual(slackLinks(reply.text), {});
    const empty = commandBody('   ');
    const usage = (await (await post(empty, signed(empty, nowSeconds))).json()) as SlackReply;
    assert.match(usage.text, /Usage: `\/what-happened &lt;operationId or correlation id&gt;` \(no id given/);
  });

  test('bad signatures, stale and future timestamps and missing headers are refused with 401 before any lookup', async () => {
    const body = commandBody(operationId);
    const good = signed(body, nowSeconds);
    const sig = good['x-slack-signature']!;
    const refusals: Array<[string, Record<string, string>, string, RegExp]> = [
      [
        'a flipped character',
        { ...good, 'x-slack-signature': `${sig.slice(0, -1)}${sig.endsWith('0') ? '1' : '0'}` },
        body,
        /X-Slack-Signature does not match/,
      ],
      ['another secret', signed(body, nowSeconds, 'not-the-signing-secret'), body, /X-Slack-Signature does not match/],
      ['a changed body', good, body.replace('T0001', 'T0002'), /X-Slack-Signature does not match/],
      ['a stale timestamp', signed(body, nowSeconds - 301), body, /301 s in the past/],
      ['a future timestamp', signed(body, nowSeconds + 600), body, /600 s in the future/],
      [
        'no signature',
        { 'content-type': good['content-type']!, 'x-slack-request-timestamp': good['x-slack-request-timestamp']! },
        body,
        /missing X-Slack-Request-Timestamp or X-Slack-Signature/,
      ],
      [
        'no timestamp',
        { 'content-type': good['content-type']!, 'x-slack-signature': sig },
        body,
        /missing X-Slack-Request-Timestamp or X-Slack-Signature/,
      ],
    ];
    const lookupsBefore = lookups;
    const recordsBefore = await recordCount(pool);
    for (const [what, headers, sent, message] of refusals) {
      const response = await post(sent, headers);
      assert.equal(response.status, 401, what);
      assert.match(await response.text(), message, what);
    }
    assert.equal(lookups, lookupsBefore, 'nothing was looked up for a refused request');
    assert.equal(await recordCount(pool), recordsBefore);
    assert.equal((await fetch(`${serve.url}/slack/what-happened`)).status, 405);
  });

  test('when a workspace that is not configured sends a correctly signed command, it gets 403 before any lookup or ledger access', async () => {
    // The signing secret is the app's: every workspace that installs the app signs with it.
    const lookupsBefore = lookups;
    const recordsBefore = await recordCount(pool);
    for (const team of ['T0002', '', 'T0001 ']) {
      const body =
        team === ''
          ? commandBody(operationId).replace('team_id=T0001&', '')
          : commandBody(operationId, undefined, team);
      const response = await post(body, signed(body, nowSeconds));
      assert.equal(response.status, 403, `team ${JSON.stringify(team)}`);
      assert.match(await response.text(), /this server does not answer Slack workspace/);
    }
    assert.equal(lookups, lookupsBefore, 'nothing was looked up for another workspace');
    assert.equal(await recordCount(pool), recordsBefore, 'nothing was recorded for another workspace');
  });

  test('with a signing secret but no workspace configured, the endpoint is off (503) and says how to turn it on', async () => {
    const unscoped = await startServe({ pool, port: 0, linkSecret: LINK_SECRET, slackSigningSecret: SLACK_SECRET });
    try {
      const body = commandBody(operationId);
      const response = await fetch(`${unscoped.url}/slack/what-happened`, {
        method: 'POST',
        body,
        headers: signed(body, Math.floor(Date.now() / 1000)),
      });
      assert.equal(response.status, 503);
      assert.match(await response.text(), /The Slack endpoint is off: set WRIT_SLACK_TEAM_IDS/);
    } finally {
      await unscoped.close();
    }
    await assert.rejects(
      startServe({ pool, port: 0, linkSecret: LINK_SECRET, slackSigningSecret: SLACK_SECRET, slackTeamIds: ['acme'] }),
      /Slack team ids such as T0123ABCD, not "acme"/,
    );
  });

  test('without a signing secret the endpoint answers 503 saying how to turn it on', async () => {
    const bare = await startServe({ pool, port: 0, linkSecret: LINK_SECRET });
    try {
      const body = commandBody(operationId);
      const response = await fetch(`${bare.url}/slack/what-happened`, {
        method: 'POST',
        body,
        headers: signed(body, Math.floor(Date.now() / 1000)),
      });
      assert.equal(response.status, 503);
      assert.match(
        await response.text(),
        /The Slack endpoint is off: set WRIT_SLACK_SIGNING_SECRET to the Slack app's signing secret/,
      );
    } finally {
      await bare.close();
    }
  });

  test('a lookup slower than the budget is acknowledged at once, and its answer is POSTed to response_url when ready', async () => {
    const receiver = await startResponseUrlReceiver();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started = 0;
    // Held until the test has seen the acknowledgement: the slow path, with no clock in the assertions.
    const slow: EvidenceLookup = async (p, id, options) => {
      started++;
      await gate;
      return findEvidence(p, id, options);
    };
    const slowServe = await startServeWith(
      { pool, port: 0, linkSecret: LINK_SECRET, slackSigningSecret: SLACK_SECRET, slackTeamIds: ['T0001'] },
      { lookup: slow, slackBudgetMs: 50 },
    );
    try {
      const body = commandBody(operationId, receiver.url);
      const response = await fetch(`${slowServe.url}/slack/what-happened`, {
        method: 'POST',
        body,
        headers: signed(body, Math.floor(Date.now() / 1000)),
      });
      assert.equal(response.status, 200);
      const ack = (await response.json()) as SlackReply;
      assert.equal(ack.response_type, 'ephemeral');
      assert.match(ack.text, new RegExp(`Looking up \`${operationId}\`… the answer follows here in a moment`));
      assert.deepEqual(slackLinks(ack.text), {});
      assert.equal(started, 1, 'the lookup is under way');
      assert.equal(receiver.messages.length, 0, 'nothing posted before the lookup finished');

      const posted = receiver.next();
      release();
      const message = await posted;
      assert.equal(message.contentType, 'application/json');
      assert.equal(message.body.response_type, 'ephemeral');
      assert.match(String(message.body.text), new RegExp(`operation ${operationId}: closed, succeeded`));
      assert.deepEqual(Object.keys(slackLinks(String(message.body.text))), ['Timeline', 'CSV', 'JSON']);
    } finally {
      release();
      await slowServe.close();
      await receiver.close();
    }
    assert.equal(receiver.messages.length, 1, 'one answer, posted once');
  });

  test('a slow lookup that fails posts a message saying so rather than leaving the user waiting', async () => {
    const receiver = await startResponseUrlReceiver();
    let fail!: () => void;
    const gate = new Promise<void>((resolve) => (fail = resolve));
    const failing: EvidenceLookup = async () => {
      await gate;
      throw new Error('connection terminated unexpectedly');
    };
    const logged: string[] = [];
    const slowServe = await startServeWith(
      { pool, port: 0, linkSecret: LINK_SECRET, slackSigningSecret: SLACK_SECRET, slackTeamIds: ['T0001'] },
      { lookup: failing, slackBudgetMs: 50, log: (line) => logged.push(line) },
    );
    try {
      const body = commandBody(operationId, receiver.url);
      const ack = (await (
        await fetch(`${slowServe.url}/slack/what-happened`, {
          method: 'POST',
          body,
          headers: signed(body, Math.floor(Date.now() / 1000)),
        })
      ).json()) as SlackReply;
      assert.match(ack.text, /Looking up/);
      const posted = receiver.next();
      fail();
      const message = await posted;
      assert.match(
        String(message.body.text),
        /Could not look up `[^`]+`: an internal error \(the writ serve log has the details\)/,
      );
      assert.doesNotMatch(String(message.body.text), /connection terminated/, 'internals stay in the log');
      assert.ok(logged.some((line) => line.includes('connection terminated unexpectedly')));
    } finally {
      fail();
      await slowServe.close();
      await receiver.close();
    }
  });
});
