import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { WRIT_SEARCH_ATTRIBUTES } from '../../src/model/search-attributes.js';
import { runWrit } from '../support/cli.js';
import { adminUrl } from '../support/urls.js';
import type { DemoSummary } from './process.js';
import { answers, exportedEnv, startWrit, summaryOf } from './process.js';

const CHAPTER_TITLES = [
  '1. A low-risk write closes on its own',
  '2. A high-risk write waits for a second person',
  '3. A write that does not stick is rolled back',
  '4. A dry run shows what would change, and changes nothing',
  '5. What happened? One question, one answer from the ledger',
  '6. Evidence that checks out offline, without trusting Writ',
  '7. The whole ledger, checked end to end',
];

async function databaseExists(name: string): Promise<boolean> {
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    return Boolean((await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount);
  } finally {
    await admin.end();
  }
}

function operation(summary: DemoSummary, chapter: number): string {
  const id = summary.chapters[chapter - 1]?.operationId;
  assert.ok(id, `chapter ${chapter} names its operation`);
  return id;
}

/** Nothing of the run is left: its database, its directories, its servers. */
async function assertNothingLeft(summary: DemoSummary): Promise<void> {
  assert.equal(await databaseExists(summary.database.name), false, `database ${summary.database.name} was dropped`);
  assert.equal(existsSync(summary.workDir), false, `${summary.workDir} was removed`);
  if (summary.database.embeddedDir)
    assert.equal(existsSync(summary.database.embeddedDir), false, `${summary.database.embeddedDir} was removed`);
  assert.equal(await answers(summary.temporal.address), false, 'the Temporal dev server is stopped');
  assert.equal(await answers(summary.serve.url), false, 'writ serve is stopped');
}

describe('writ demo', () => {
  test('tells the whole story, chapter by chapter, and leaves nothing behind', async () => {
    const run = await runWrit(['demo', '--json'], { env: { DATABASE_URL: adminUrl() } });
    assert.equal(run.code, 0, `writ demo failed:\n${run.stderr}`);
    let at = 0;
    for (const title of CHAPTER_TITLES) {
      const found = run.stderr.indexOf(`\n${title}\n`, at);
      assert.ok(found > at, `the narration tells "${title}" after the chapters before it:\n${run.stderr}`);
      at = found;
    }
    assert.match(run.stderr, /All 7 chapters went as told/);
    assert.match(run.stderr, /refused: the requester cannot approve their own operation/);
    assert.match(
      run.stderr,
      /verification failed: row widget of crm\.prices does not hold what was asked: price asked 9, holds 10/,
    );

    const summary = summaryOf(run.stdout);
    assert.ok(summary, `a JSON summary on stdout:\n${run.stdout}`);
    assert.equal(summary.ok, true);
    assert.equal(summary.database.source, 'DATABASE_URL');
    assert.deepEqual(
      summary.chapters.map((c) => [c.number, c.ok]),
      CHAPTER_TITLES.map((_t, i) => [i + 1, true]),
    );
    assert.deepEqual(
      summary.chapters.slice(0, 4).map((c) => c.outcome),
      ['succeeded', 'succeeded', 'rolled_back', 'dry_run'],
    );
    assert.equal(summary.chapters[1]!.refusal, 'the requester cannot approve their own operation');
    assert.deepEqual(summary.chapters[1]!.approvedBy, ['bob']);
    assert.equal(summary.chapters[5]!.forgedCopyDetected, true);
    for (const id of [1, 2, 3, 4].map((n) => operation(summary, n))) {
      assert.match(
        summary.links[id]!.timeline,
        new RegExp(`^${summary.serve.url}/.*${id}`),
        'a timeline link on writ serve for each operation',
      );
      assert.match(
        summary.links[id]!.webUi,
        new RegExp(`^${summary.temporal.webUi}/namespaces/default/workflows/${id}$`),
      );
    }
    await assertNothingLeft(summary);
  });

  test('with --keep, the stack stays up for a person to explore, and Ctrl-C removes it all', async () => {
    const demo = startWrit(['demo', '--keep', '--json'], { DATABASE_URL: adminUrl() });
    try {
      await demo.waitFor((out) => summaryOf(out) !== null, 180_000);
      const summary = summaryOf(demo.stdout())!;
      assert.equal(summary.ok, true, summary.error);
      assert.equal(
        await databaseExists(summary.database.name),
        true,
        'the database is still there while the demo keeps running',
      );

      // The story's facts, read independently of the demo: the ledger and the CRM tables it wrote.
      const ledger = new pg.Client({ connectionString: summary.database.url });
      await ledger.connect();
      try {
        const outcomes = await ledger.query<{ operation_id: string; outcome: string }>(
          'SELECT operation_id, outcome FROM writ.operations',
        );
        const byId = new Map(outcomes.rows.map((r) => [r.operation_id, r.outcome]));
        assert.deepEqual(
          [1, 2, 3, 4].map((n) => byId.get(operation(summary, n))),
          ['succeeded', 'succeeded', 'rolled_back', 'dry_run'],
        );
        const approvals = await ledger.query<{ type: string; approver: string }>(
          `SELECT record->>'type' AS type, record->'payload'->>'approver' AS approver FROM writ.records WHERE operation_id = $1 AND record->>'type' LIKE 'approval.%' AND record->>'type' <> 'approval.requested' ORDER BY seq`,
          [operation(summary, 2)],
        );
        assert.deepEqual(approvals.rows, [
          { type: 'approval.refused', approver: 'alice' },
          { type: 'approval.granted', approver: 'bob' },
        ]);
        const compensated = await ledger.query(
          `SELECT 1 FROM writ.records WHERE operation_id = $1 AND record->>'type' = 'step.compensated'`,
          [operation(summary, 3)],
        );
        assert.equal(compensated.rowCount, 1, 'the rollback is in the ledger');
        const rows = await ledger.query<{ what: string; value: string }>(`
          SELECT 'acme tier' AS what, tier AS value FROM crm.accounts WHERE id = 'acme'
          UNION ALL SELECT 'initech', count(*)::text FROM crm.accounts WHERE id = 'initech'
          UNION ALL SELECT 'widget price', price::text FROM crm.prices WHERE sku = 'widget'`);
        assert.deepEqual(rows.rows, [
          { what: 'acme tier', value: 'gold' },
          { what: 'initech', value: '1' },
          { what: 'widget price', value: '12.00' },
        ]);
        const checkpoints = await ledger.query('SELECT 1 FROM writ.checkpoints');
        assert.ok(checkpoints.rowCount, 'checkpoints were signed');
      } finally {
        await ledger.end();
      }
      assert.match(await readFile(`${summary.filesRoot}/notes/acme.md`, 'utf8'), /Renewal call went well/);

      // Temporal holds the same story, and its Web UI answers.
      const connection = await Connection.connect({ address: summary.temporal.address });
      try {
        const client = new Client({ connection });
        const described = await client.workflow.getHandle(operation(summary, 3)).describe();
        assert.equal(described.status.name, 'COMPLETED');
        assert.equal(described.typedSearchAttributes.get(WRIT_SEARCH_ATTRIBUTES.state), 'closed:rolled_back');
      } finally {
        await connection.close();
      }
      assert.equal((await fetch(summary.temporal.webUi)).status, 200, 'the Web UI answers');

      // writ serve answers the signed timeline link the demo printed.
      const page = await fetch(summary.links[operation(summary, 2)]!.timeline);
      assert.equal(page.status, 200);
      assert.match(await page.text(), new RegExp(operation(summary, 2)));

      // The CLI, configured only by the env the demo printed, verifies the same ledger.
      const env = exportedEnv(demo.stderr());
      assert.equal(env.DATABASE_URL, summary.database.url);
      const verified = await runWrit(['verify'], { env });
      assert.equal(verified.code, 0, verified.stdout + verified.stderr);
      assert.match(verified.stdout, /chain main: intact, \d+ records/);
      assert.match(verified.stdout, /signatures verified/);

      const { code } = await demo.stop('SIGINT');
      assert.equal(code, 0, `a Ctrl-C after the story is a clean end:\n${demo.stderr()}`);
      assert.match(demo.stderr(), /done: everything the demo made is removed/);
      await assertNothingLeft(summary);
    } finally {
      // A failed assertion still gets the demo's own clean-up (its database is not the harness's to drop).
      await demo.stop('SIGINT');
    }
  });
});
