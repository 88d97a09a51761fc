import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ensureLogins, urlAs } from '../../src/db/logins.js';
import { runWrit } from '../support/cli.js';
import { freshLedger, temporalAddress } from '../support/db.js';
import { keygen } from '../support/signing-key.js';
import { adminUrl } from '../support/urls.js';
import { spawnWorker } from '../support/worker-process.js';
import { updateTier } from '../support/writ.js';

async function startedRecords(ledger: Awaited<ReturnType<typeof freshLedger>>) {
  return (
    await ledger.pool.query(`SELECT record FROM writ.records WHERE event_type = 'worker.started' ORDER BY seq`)
  ).rows.map((r) => r.record);
}

async function until<T>(read: () => Promise<T | null | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('a worker says, on stderr and in the ledger, what power it runs with', () => {
  test('when the worker runs as the superuser without a signing key, it warns loudly and records worker.started saying so', async (t) => {
    const ledger = await freshLedger(t);
    const worker = await spawnWorker({
      DATABASE_URL: ledger.url,
      TEMPORAL_ADDRESS: temporalAddress(),
      WRIT_TASK_QUEUE: `start-${randomUUID()}`,
      WRIT_SIGNING_KEY: '',
    });
    t.after(() => worker.stop());
    assert.match(worker.output(), /WARNING: the worker's ledger login "postgres" is a superuser/);
    assert.match(worker.output(), /WARNING: no signing key/);
    const [started] = await startedRecords(ledger);
    assert.equal(started.payload.login, 'postgres');
    assert.equal(started.payload.superuser, true);
    assert.equal(started.payload.signingKey, false);
    assert.equal(started.payload.warnings.length, 2);
    assert.equal((await runWrit(['verify'], { env: { DATABASE_URL: ledger.url } })).code, 0);
  });

  test("when the worker signs checkpoints but its checkpoint login is the writer's, it warns that every checkpoint will fail", async (t) => {
    const ledger = await freshLedger(t);
    await ensureLogins(adminUrl());
    const { env: signing } = await keygen(mkdtempSync(join(tmpdir(), 'writ-start-')));
    const worker = await spawnWorker({
      DATABASE_URL: urlAs(ledger.url, 'worker'),
      WRIT_CHECKPOINT_DATABASE_URL: '',
      TEMPORAL_ADDRESS: temporalAddress(),
      WRIT_TASK_QUEUE: `start-${randomUUID()}`,
      ...signing,
    });
    t.after(() => worker.stop());
    assert.match(
      worker.output(),
      /WARNING: the checkpoint login cannot write checkpoints \(it lacks writ_checkpointer\)/,
    );
    const [started] = await startedRecords(ledger);
    assert.equal(started.payload.superuser, false);
    assert.equal(started.payload.warnings.length, 1);
  });

  test('when the worker runs as the writer login with a signing key, it warns of nothing, and governed writes and checkpoints work', async (t) => {
    const ledger = await freshLedger(t);
    await ensureLogins(adminUrl());
    // The connector's own login, granted the target table and nothing of the ledger's.
    await ledger.pool.query(`CREATE TABLE accounts (id int PRIMARY KEY, name text NOT NULL, tier text NOT NULL)`);
    await ledger.pool.query(`INSERT INTO accounts VALUES (42, 'Acme', 'silver')`);
    await ledger.pool.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON accounts TO writ_connector`);
    // The connector keeps its idempotency table in a schema of its own in the target database.
    await ledger.pool.query(`GRANT CREATE ON DATABASE ${ledger.name} TO writ_connector`);
    const dir = mkdtempSync(join(tmpdir(), 'writ-start-'));
    const { verifierKey, env: signing } = await keygen(dir);
    const env = {
      DATABASE_URL: urlAs(ledger.url, 'worker'),
      WRIT_CHECKPOINT_DATABASE_URL: urlAs(ledger.url, 'checkpoint'),
      WRIT_POSTGRES_CONNECTOR_URL: urlAs(ledger.url, 'connector'),
      // The test's target table shares the ledger's database: allowed on purpose (never the writ schemas).
      WRIT_POSTGRES_CONNECTOR_ALLOW_LEDGER_DATABASE: 'true',
      TEMPORAL_ADDRESS: temporalAddress(),
      WRIT_TASK_QUEUE: `start-${randomUUID()}`,
      ...signing,
    };
    const worker = await spawnWorker(env);
    t.after(() => worker.stop());
    assert.doesNotMatch(worker.output(), /WARNING/);
    const [started] = await startedRecords(ledger);
    assert.deepEqual(
      [
        started.payload.login,
        started.payload.superuser,
        started.payload.bypassRls,
        started.payload.ownsLedger,
        started.payload.signingKey,
        started.payload.warnings,
      ],
      ['writ_worker', false, false, false, true, []],
    );

    const request = join(dir, 'raise.json');
    writeFileSync(request, JSON.stringify(updateTier()));
    const submitted = await runWrit(['submit', request, '--wait'], { env });
    const failures = async () =>
      JSON.stringify(
        (await ledger.pool.query(`SELECT record->'payload' AS p FROM writ.records WHERE event_type LIKE '%failed%'`))
          .rows,
      );
    assert.equal(submitted.code, 0, submitted.stdout + submitted.stderr + (await failures()));
    assert.equal((await ledger.pool.query('SELECT tier FROM accounts WHERE id = 42')).rows[0].tier, 'gold');
    // The close asks the worker's checkpointer (its own login) for a checkpoint.
    const records = Number((await ledger.pool.query('SELECT max(seq) AS n FROM writ.records')).rows[0].n);
    await until(
      async () => (await ledger.pool.query('SELECT 1 FROM writ.checkpoints WHERE size >= $1', [records])).rows[0],
    );
    const verify = await runWrit(['verify'], {
      env: { ...env, DATABASE_URL: ledger.url, WRIT_VERIFIER_KEY: verifierKey },
    });
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /signatures verified/);
  });
});
