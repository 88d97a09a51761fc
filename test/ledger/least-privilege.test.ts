import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import pg from 'pg';
import { LOGINS, urlAs } from '../../src/db/logins.js';
import type { Service } from '../../src/db/logins.js';
import { createPool } from '../../src/db/pool.js';
import { prepareLogins } from '../../src/devstack/logins.js';
import { writeCheckpoint } from '../../src/evidence/checkpointer.js';
import { loadSigner, writeSigningKey } from '../../src/evidence/keys.js';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import { migrate } from '../../src/ledger/migrate.js';
import { verifyStoredChain } from '../../src/ledger/reader.js';
import { freshLedger } from '../support/db.js';
import { appendNotes, note } from '../support/records.js';
import { refusal } from '../support/roles.js';
import { adminUrl, databaseUrlFor } from '../support/urls.js';

type Context = Parameters<typeof freshLedger>[0];

function poolAs(t: Context, url: string): pg.Pool {
  const pool = createPool(url, { max: 2, applicationName: 'writ-test-login' });
  t.after(() => pool.end());
  return pool;
}

/** What a stolen login would try first: rewrite a record, or switch off what stops it. */
const ATTACKS = [
  'UPDATE writ.records SET canonical = canonical WHERE seq = 1',
  'DELETE FROM writ.records WHERE seq = 1',
  'TRUNCATE writ.records',
  'ALTER TABLE writ.records DISABLE TRIGGER records_no_update',
  'ALTER TABLE writ.records DISABLE TRIGGER ALL',
  'ALTER TABLE writ.records NO FORCE ROW LEVEL SECURITY',
  'ALTER TABLE writ.records DISABLE ROW LEVEL SECURITY',
  'SET session_replication_role = replica',
  'DROP TRIGGER records_no_update ON writ.records',
  "UPDATE writ.operations SET outcome = 'succeeded'",
  'DELETE FROM writ.checkpoints',
];

describe('the login roles writ demo, writ dev and compose create hold only what their service needs', () => {
  test('when any of them tries to rewrite a record or switch off a trigger or row-level security, it is refused', async (t) => {
    const ledger = await freshLedger(t);
    const urls = await prepareLogins(ledger.url);
    await appendNotes(new GroupCommitAppender(ledger.pool), 3);
    for (const service of Object.keys(LOGINS) as Service[]) {
      const pool = poolAs(t, urls[service]);
      assert.equal((await pool.query('SELECT current_user AS u')).rows[0].u, LOGINS[service]);
      for (const sql of ATTACKS) {
        const error = await refusal(pool.query(sql));
        assert.ok(
          ['42501', 'WRT10'].includes(error.code ?? ''),
          `${LOGINS[service]}: ${sql} is refused by privileges, not by luck: ${error.code} ${error.message}`,
        );
      }
    }
    const verdict = await verifyStoredChain(ledger.pool, 'main', { deep: false, rootsAt: new Set() });
    assert.ok(verdict.ok);
    assert.equal(verdict.records, 3);
  });

  test("when writ serve's login appends, only its access records are accepted, never one filed under an operation", async (t) => {
    const ledger = await freshLedger(t);
    const urls = await prepareLogins(ledger.url);
    const serve = new GroupCommitAppender(poolAs(t, urls.serve));
    const access = {
      actor: { id: 'auditor', kind: 'user' as const, groups: [] },
      payload: { id: 'op-1', via: 'writ serve' },
    };
    assert.equal((await serve.append({ type: 'evidence.viewed', ...access })).seq, 1);
    for (const [what, draft] of [
      ['a step record', { ...access, type: 'step.executed', operationId: 'op-1' }],
      ['a note', note(2)],
      ['an access record filed under an operation', { ...access, type: 'evidence.downloaded', operationId: 'op-1' }],
    ] as const) {
      const error = await refusal(serve.append(draft));
      assert.match(`${error.code ?? ''} ${error.message}`, /row-level security|42501/, what);
    }
    assert.equal((await ledger.pool.query('SELECT count(*)::int AS n FROM writ.records')).rows[0].n, 1);
  });

  test("when the connector's login reads or writes the ledger, it is refused", async (t) => {
    const ledger = await freshLedger(t);
    const urls = await prepareLogins(ledger.url);
    const pool = poolAs(t, urls.connector);
    for (const sql of [
      'SELECT * FROM writ.records',
      'SELECT * FROM writ.operations',
      `INSERT INTO writ.records (canonical) VALUES ('\\x00')`,
    ]) {
      assert.equal((await refusal(pool.query(sql))).code, '42501', sql);
    }
  });

  test("when the connector's login plants a digest() where the worker's search_path finds it, the worker's appends still hash right", async (t) => {
    const ledger = await freshLedger(t);
    const urls = await prepareLogins(ledger.url);
    // The demo lets the connector create its own schema in the ledger's database, so it could make
    // one named after the worker's login, which comes first in the worker's default search_path.
    const connector = poolAs(t, urls.connector);
    await connector.query(`CREATE SCHEMA ${LOGINS.worker}`);
    await connector.query(
      `CREATE FUNCTION ${LOGINS.worker}.digest(data bytea, kind text) RETURNS bytea LANGUAGE sql AS $$ SELECT '\\x00'::bytea $$`,
    );
    await connector.query(`GRANT USAGE ON SCHEMA ${LOGINS.worker} TO PUBLIC`);
    const worker = new GroupCommitAppender(poolAs(t, urls.worker));
    await worker.appendAll([note(1), note(2)]);
    const verdict = await verifyStoredChain(ledger.pool, 'main', { deep: false, rootsAt: new Set() });
    assert.ok(verdict.ok, JSON.stringify(verdict.damage));
  });

  test("when the ledger is owned by an ordinary role, forced row-level security still lets the owner's own paths work: migrate, fold, rebuild, checkpoint", async (t) => {
    const owner = `${process.env.WRIT_TEST_RUN}_owner_${randomBytes(3).toString('hex')}`;
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    await admin.query(`CREATE ROLE ${owner} LOGIN CREATEROLE`);
    await admin.query(`CREATE DATABASE ${owner} OWNER ${owner}`);
    t.after(async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${owner} WITH (FORCE)`);
      await admin.query(`DROP OWNED BY ${owner}`).catch(() => undefined);
      await admin.query(`DROP ROLE IF EXISTS ${owner}`);
      await admin.end();
    });
    const ownerUrl = urlAs(databaseUrlFor(owner), 'worker').replace(`${LOGINS.worker}@`, `${owner}@`);
    await migrate(ownerUrl);
    await prepareLogins(databaseUrlFor(owner));
    const ownerPool = poolAs(t, ownerUrl);
    assert.equal(
      (await ownerPool.query('SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user')).rows[0]
        .rolsuper,
      false,
    );
    const worker = new GroupCommitAppender(poolAs(t, urlAs(databaseUrlFor(owner), 'worker')));
    await worker.appendAll([note(1, { operationId: 'op-1' }), note(2, { operationId: 'op-1' })]);
    assert.equal(
      (await ownerPool.query('SELECT events FROM writ.operations WHERE operation_id = $1', ['op-1'])).rows[0].events,
      2,
    );
    assert.equal(Number((await ownerPool.query('SELECT writ.rebuild_operations() AS n')).rows[0].n), 2);
    const key = await writeSigningKey(mkdtempSync(join(tmpdir(), 'writ-owner-')));
    const written = await writeCheckpoint(poolAs(t, urlAs(databaseUrlFor(owner), 'checkpoint')), 'main', {
      signer: await loadSigner(key.path),
      origin: 'writ',
      anchors: [],
    });
    assert.equal(written.size, 2);
    assert.equal((await ownerPool.query('SELECT count(*)::int AS n FROM writ.checkpoints')).rows[0].n, 1);
    // FORCE binds the owner too: no policy lets it update a record, so an UPDATE reaches no row.
    assert.equal((await ownerPool.query('UPDATE writ.records SET canonical = canonical')).rowCount, 0);
    assert.equal((await refusal(ownerPool.query('TRUNCATE writ.records'))).code, 'WRT10');
  });
});
