import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import pg from 'pg';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import { runCommand, runWrit } from '../support/cli.js';
import { freshLedger } from '../support/db.js';
import { appendNotes, tamper } from '../support/records.js';
import { adminUrl, databaseUrlFor } from '../support/urls.js';

describe('writ migrate', () => {
  test('creates the database and the ledger, and a second run changes nothing', async (t) => {
    const name = `${process.env.WRIT_TEST_RUN}_migrate_${randomBytes(3).toString('hex')}`;
    t.after(async () => {
      const admin = new pg.Client({ connectionString: adminUrl() });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    });
    const env = { DATABASE_URL: databaseUrlFor(name) };
    const first = await runWrit(['migrate'], { env });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /created database/);
    assert.match(first.stdout, /applied 0001_ledger/);
    const second = await runWrit(['migrate'], { env });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /up to date/);
  });
});

describe('writ verify', () => {
  test('exits 0 on an intact ledger and 1 naming the first bad record once it is damaged', async (t) => {
    const ledger = await freshLedger(t);
    await appendNotes(new GroupCommitAppender(ledger.pool), 8);
    const env = { DATABASE_URL: ledger.url };
    const intact = await runWrit(['verify'], { env });
    assert.equal(intact.code, 0, intact.stderr);
    const intactJson = await runWrit(['verify', '--json'], { env });
    assert.equal(intactJson.code, 0, intactJson.stderr);
    const intactVerdict = JSON.parse(intactJson.stdout);
    assert.deepEqual(
      intactVerdict.chains.map((c: { chain: string; ok: boolean; records: number }) => [c.chain, c.ok, c.records]),
      [['main', true, 8]],
    );
    assert.deepEqual(intactVerdict.findings, []);

    await tamper(ledger.pool, 'DELETE FROM writ.records WHERE seq = 6');
    const damaged = await runWrit(['verify'], { env });
    assert.equal(damaged.code, 1);
    const json = await runWrit(['verify', '--json'], { env });
    assert.equal(json.code, 1);
    const verdict = JSON.parse(json.stdout);
    assert.equal(verdict.ok, false);
    assert.deepEqual(
      verdict.findings.map((f: { code: string; chainId: string; seq: number }) => [f.code, f.chainId, f.seq]),
      [['RECORD_MISSING', 'main', 6]],
    );
    // `kind` is the older name the human output prints (`DAMAGED at record 6: gap`).
    assert.deepEqual(
      { seq: verdict.chains[0].damage.seq, kind: verdict.chains[0].damage.kind },
      { seq: 6, kind: 'gap' },
    );
  });

  test('exits 2 with directions when no database answers, and on a usage error', async () => {
    const unreachable = await runWrit(['verify'], { env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/writ' } });
    assert.equal(unreachable.code, 2);
    assert.match(unreachable.stderr, /no PostgreSQL server answers at postgres:\/\/postgres@127\.0\.0\.1:1\/writ/);
    assert.match(unreachable.stderr, /DATABASE_URL=/);
    const usage = await runWrit(['verify', '--no-such-flag']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /unknown option '--no-such-flag'/);
  });

  test('runs from a checkout as `npm run -s writ -- verify`', async (t) => {
    const ledger = await freshLedger(t);
    await appendNotes(new GroupCommitAppender(ledger.pool), 2);
    const result = await runCommand('npm', ['run', '-s', 'writ', '--', 'verify'], {
      env: { DATABASE_URL: ledger.url },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /chain main: intact, 2 records/);
  });
});

describe('writ record', () => {
  test('records a manual event from flags, under manual.<type>', async (t) => {
    const ledger = await freshLedger(t);
    const result = await runWrit(
      [
        'record',
        '--type',
        'change',
        '--actor',
        'dana',
        '--message',
        'restarted the CRM sync by hand',
        '--operation',
        'op-42',
      ],
      { env: { DATABASE_URL: ledger.url } },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /recorded: chain main record 1 manual\.change/);
    const stored = await ledger.pool.query('SELECT record FROM writ.records');
    assert.equal(stored.rows[0].record.actor.id, 'dana');
    assert.equal(stored.rows[0].record.operationId, 'op-42');
    assert.equal(stored.rows[0].record.payload.message, 'restarted the CRM sync by hand');
  });

  test('records JSON lines from standard input as one all-or-nothing batch', async (t) => {
    const ledger = await freshLedger(t);
    const env = { DATABASE_URL: ledger.url };
    const lines = [
      JSON.stringify({ type: 'note', actor: 'erin', message: 'rotated the API key' }),
      '',
      JSON.stringify({
        type: 'change',
        actor: { id: 'ops-bot', kind: 'service' },
        message: 'set tier=gold',
        details: { table: 'accounts', id: 42 },
      }),
    ].join('\n');
    const ok = await runWrit(['record'], { env, input: lines });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((await ledger.pool.query('SELECT count(*)::int AS n FROM writ.records')).rows[0].n, 2);

    const bad = [
      JSON.stringify({ type: 'note', actor: 'erin', message: 'fine' }),
      '{not json',
      JSON.stringify({ type: 'step.executed', actor: 'mallory', message: 'pretend a workflow did this' }),
      JSON.stringify({ type: 'note', message: 'who?' }),
    ].join('\n');
    const refused = await runWrit(['record'], { env, input: bad });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /3 line\(s\) refused, nothing recorded/);
    assert.match(refused.stderr, /line 2: not JSON/);
    assert.match(refused.stderr, /line 3: type:/);
    assert.match(refused.stderr, /line 4: actor:/);
    assert.equal(
      (await ledger.pool.query('SELECT count(*)::int AS n FROM writ.records')).rows[0].n,
      2,
      'the refused batch wrote nothing',
    );
  });

  test('asks for all three flags together', async (t) => {
    const ledger = await freshLedger(t);
    const result = await runWrit(['record', '--type', 'note'], { env: { DATABASE_URL: ledger.url } });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /missing --actor, --message/);
  });
});
