import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type pg from 'pg';
import { verifyStoredChain } from '../../src/ledger/reader.js';
import type { RunningServe } from '../../src/serve/server.js';
import { startServe } from '../../src/serve/server.js';
import { issueLinks } from '../../src/serve/issue-links.js';
import { runWrit } from '../support/cli.js';
import { spawnServe } from '../support/serve-process.js';
import { countAccessRecords, LINK_SECRET, operations, recordCount } from './fixtures.js';

interface AccessRecord {
  type: string;
  operationId: string | null;
  correlationId: string | null;
  actor: { id: string; kind: string };
  payload: Record<string, unknown>;
}

async function lastAccessRecord(pool: pg.Pool): Promise<AccessRecord> {
  const result = await pool.query<{ record: AccessRecord }>(
    `SELECT record FROM writ.records WHERE record->>'type' IN ('evidence.downloaded', 'evidence.viewed') ORDER BY seq DESC LIMIT 1`,
  );
  return result.rows[0]!.record;
}

/** Changes one query parameter of a link, the way someone editing it by hand would. */
function edited(link: string, name: string, value: string): string {
  const url = new URL(link);
  url.searchParams.set(name, value);
  return url.toString();
}

function flipLastChar(link: string, name: string): string {
  const value = new URL(link).searchParams.get(name)!;
  return edited(link, name, `${value.slice(0, -1)}${value.endsWith('A') ? 'B' : 'A'}`);
}

describe('downloads behind signed links', () => {
  const cleanups: Array<() => Promise<void>> = [];
  let pool: pg.Pool;
  let serve: RunningServe;
  let clock = Date.now();
  let operationId = '';
  let databaseUrl = '';

  before(async () => {
    const ops = await operations({ after: (fn) => cleanups.push(fn) });
    pool = ops.pool;
    databaseUrl = ops.harness.ledger.url;
    operationId = await ops.approved();
    serve = await startServe({ pool, port: 0, linkSecret: LINK_SECRET, now: () => clock });
    cleanups.push(() => serve.close());
  });

  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  test("a valid CSV link gives the bundle's records.csv and appends exactly one evidence.downloaded record", async () => {
    const links = serve.link(operationId, 'dana', 600);
    const before = await recordCount(pool);
    const response = await fetch(links.csv);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/csv; charset=utf-8');
    assert.match(response.headers.get('content-disposition')!, /^attachment; filename="writ-[A-Za-z0-9._-]+\.csv"$/);
    const body = Buffer.from(await response.arrayBuffer());
    const lines = body.toString('utf8').trimEnd().split('\r\n');
    assert.equal(
      lines[0],
      'operation,seq,occurredAt,type,state,actor,step,target,before,after,approver,approverDiffersFromRequester',
    );
    const events = (
      await pool.query(`SELECT count(*)::int AS n FROM writ.records WHERE operation_id = $1`, [operationId])
    ).rows[0].n as number;
    assert.equal(lines.length, 1 + events, 'one row per record of the operation');
    assert.ok(
      lines.some((line) => line.includes(',approval.granted,') && line.endsWith(',bob,yes')),
      "bob's approval, and that bob is not the requester",
    );

    assert.equal(await recordCount(pool), before + 1, 'exactly one record appended');
    const recorded = await lastAccessRecord(pool);
    assert.equal(recorded.type, 'evidence.downloaded');
    assert.deepEqual(recorded.actor, { id: 'dana', kind: 'user', groups: [] });
    assert.equal(recorded.operationId, null, 'filed beside the operation, so reading its evidence does not change it');
    const exp = Number(new URL(links.csv).searchParams.get('exp'));
    assert.deepEqual(recorded.payload, {
      id: operationId,
      matchedBy: 'operation',
      operationIds: [operationId],
      format: 'csv',
      requester: 'dana',
      linkExpiresAt: new Date(exp * 1000).toISOString(),
      via: 'writ serve',
      bytes: body.length,
      sha256: createHash('sha256').update(body).digest('hex'),
    });
  });

  test('a valid JSON link gives what-happened --timeline --json and is recorded the same way', async () => {
    const links = serve.link(operationId, 'erin');
    const before = await recordCount(pool);
    const response = await fetch(links.json);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/json; charset=utf-8');
    const text = await response.text();
    const json = JSON.parse(text) as {
      id: string;
      matchedBy: string;
      operations: Array<{ outcome: string; actor: { id: string } }>;
      timeline: Array<{ type: string; hash: string }>;
    };
    assert.equal(json.id, operationId);
    assert.equal(json.matchedBy, 'operation');
    assert.equal(json.operations[0]!.outcome, 'succeeded');
    assert.equal(json.operations[0]!.actor.id, 'alice');
    assert.ok(json.timeline.some((e) => e.type === 'approval.granted'));
    assert.ok(
      json.timeline.every((e) => /^[0-9a-f]{64}$/.test(e.hash)),
      'every record with its hash',
    );

    assert.equal(await recordCount(pool), before + 1);
    const recorded = await lastAccessRecord(pool);
    assert.equal(recorded.type, 'evidence.downloaded');
    assert.equal(recorded.payload.format, 'json');
    assert.equal(recorded.payload.requester, 'erin');
    assert.equal(recorded.payload.sha256, createHash('sha256').update(text, 'utf8').digest('hex'));
  });

  test('tampered, swapped and expired links are refused with 403 and a clear message, and nothing is recorded', async () => {
    const links = serve.link(operationId, 'dana', 600);
    const refused: Array<[string, string, RegExp]> = [
      ['a flipped character of the signature', flipLastChar(links.csv, 'sig'), /signature does not match/],
      ['another id', edited(links.csv, 'id', `${operationId}x`), /signature does not match/],
      ['another requester', edited(links.json, 'by', 'mallory'), /signature does not match/],
      [
        'a later expiry',
        edited(links.json, 'exp', String(Number(new URL(links.json).searchParams.get('exp')) + 86_400)),
        /signature does not match/,
      ],
      [
        "the CSV link's query on the JSON address",
        links.csv.replace('/evidence/records.csv?', '/evidence/what-happened.json?'),
        /signature does not match/,
      ],
      [
        "the JSON link's query on the timeline page",
        links.json.replace('/evidence/what-happened.json?', '/evidence/timeline?'),
        /signature does not match/,
      ],
      [
        'no signature at all',
        `${serve.url}/evidence/records.csv?id=${encodeURIComponent(operationId)}`,
        /not a signed link/,
      ],
    ];
    const before = await recordCount(pool);
    for (const [what, url, message] of refused) {
      const response = await fetch(url);
      assert.equal(response.status, 403, what);
      assert.match(await response.text(), message, what);
    }
    clock += 601_000;
    try {
      const expired = await fetch(links.csv);
      assert.equal(expired.status, 403);
      assert.match(
        await expired.text(),
        /This link is refused: this link expired at \d{4}-\d\d-\d\dT[\d:.]+Z: ask for a new one/,
      );
    } finally {
      clock -= 601_000;
    }
    assert.equal(await recordCount(pool), before, 'refused links append nothing');
  });

  test('a valid link to an id the ledger does not hold is a 404 that says so, recorded nowhere', async () => {
    const before = await recordCount(pool);
    const page = await fetch(serve.link('no-such-operation', 'dana').timeline);
    assert.equal(page.status, 404);
    assert.match(
      await page.text(),
      /The ledger holds no operation and no correlation id &quot;no-such-operation&quot;/,
    );
    const csv = await fetch(serve.link('no-such-operation', 'dana').csv);
    assert.equal(csv.status, 404);
    assert.match(await csv.text(), /Nothing recorded under this id/);
    const head = await fetch(serve.link(operationId, 'dana').csv, { method: 'HEAD' });
    assert.equal(head.status, 405, 'a HEAD would use the link without taking anything');
    assert.equal(await recordCount(pool), before);
  });

  test("downloads leave the operation's own evidence as it was, and the chain still verifies", async () => {
    const summaryBefore = (
      await pool.query(`SELECT events, last_seq, last_event_type FROM writ.operations WHERE operation_id = $1`, [
        operationId,
      ])
    ).rows[0];
    const accessBefore = await countAccessRecords(pool);
    for (const url of Object.values(serve.link(operationId, 'frank'))) assert.equal((await fetch(url)).status, 200);
    assert.equal(await countAccessRecords(pool), accessBefore + 3, 'the page view and both downloads');
    const summaryAfter = (
      await pool.query(`SELECT events, last_seq, last_event_type FROM writ.operations WHERE operation_id = $1`, [
        operationId,
      ])
    ).rows[0];
    assert.deepEqual(summaryAfter, summaryBefore);
    const verdict = await verifyStoredChain(pool, 'main');
    assert.equal(verdict.ok, true, JSON.stringify(verdict));
    assert.equal(verdict.records, await recordCount(pool));
    const cli = await runWrit(['verify'], { env: { DATABASE_URL: databaseUrl } });
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /chain main: intact/);
  });

  test('writ link prints working links for a person, and refuses what it cannot sign', async () => {
    const env = { DATABASE_URL: databaseUrl, WRIT_LINK_SECRET: LINK_SECRET };
    const printed = await runWrit(
      ['link', operationId, '--requester', 'gina', '--ttl', '15m', '--base-url', serve.url],
      { env },
    );
    assert.equal(printed.code, 0, printed.stderr);
    const urls = Object.fromEntries(
      printed.stdout
        .split('\n')
        .filter((line) => /^\w+: +http/.test(line))
        .map((line) => line.split(/: +/) as [string, string]),
    );
    assert.deepEqual(Object.keys(urls), ['timeline', 'csv', 'json']);
    assert.match(printed.stdout, /for gina, valid until .*; each use is recorded in the ledger/);
    const before = await recordCount(pool);
    const page = await fetch(urls.timeline!);
    assert.equal(page.status, 200);
    assert.equal((await lastAccessRecord(pool)).actor.id, 'gina');
    assert.equal(await recordCount(pool), before + 1);

    const json = await runWrit(
      ['link', operationId, '--requester', 'gina', '--base-url', 'https://writ.example.com/', '--json'],
      { env },
    );
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout) as { timeline: string; expiresAt: string };
    assert.ok(parsed.timeline.startsWith('https://writ.example.com/evidence/timeline?'), parsed.timeline);

    const noSecret = await runWrit(['link', operationId, '--requester', 'gina'], {
      env: { DATABASE_URL: databaseUrl, WRIT_LINK_SECRET: '' },
    });
    assert.equal(noSecret.code, 2);
    assert.match(noSecret.stderr, /WRIT_LINK_SECRET is not set/);
    assert.match(noSecret.stderr, /openssl rand -hex 32/);
    const unknown = await runWrit(['link', 'no-such-operation', '--requester', 'gina'], { env });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no operation or correlation id no-such-operation in the ledger/);
    const badTtl = await runWrit(['link', operationId, '--requester', 'gina', '--ttl', 'forever'], { env });
    assert.equal(badTtl.code, 2);
    assert.match(badTtl.stderr, /--ttl must be a duration such as 90s, 15m, 24h or 7d/);
    const noRequester = await runWrit(['link', operationId], { env });
    assert.equal(noRequester.code, 2);
    assert.match(noRequester.stderr, /required option '--requester <who>' not specified/);
  });

  test('writ serve serves until interrupted, and will not start without a link secret', async () => {
    const missing = await runWrit(['serve', '--port', '0'], {
      env: { DATABASE_URL: databaseUrl, WRIT_LINK_SECRET: '' },
    });
    assert.equal(missing.code, 2);
    assert.match(
      missing.stderr,
      /WRIT_LINK_SECRET is not set: the timeline page and the downloads are only served behind links signed with it/,
    );

    const serve = await spawnServe(databaseUrl, LINK_SECRET);
    const url = serve.url;
    let code: number | null;
    try {
      assert.match(serve.output(), /Slack: off \(set WRIT_SLACK_SIGNING_SECRET/);
      assert.equal(await (await fetch(`${url}/healthz`)).text(), 'ok\n');
      const links = issueLinks({
        baseUrl: url,
        secret: LINK_SECRET,
        id: operationId,
        requester: 'hal',
        nowMs: Date.now(),
      });
      const page = await fetch(links.timeline);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /Shown to <strong>hal<\/strong>/);
      const slack = await fetch(`${url}/slack/what-happened`, { method: 'POST', body: 'text=x' });
      assert.equal(slack.status, 503);
      assert.match(await slack.text(), /The Slack endpoint is off: set WRIT_SLACK_SIGNING_SECRET/);
    } finally {
      code = await serve.stop();
    }
    assert.equal(code, 0, serve.output());
  });
});
