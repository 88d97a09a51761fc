import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { builtinConfigFromEnv } from '../../src/connectors/builtins/index.js';
import { postgresConnector } from '../../src/connectors/postgres/index.js';
import { parseTarget } from '../../src/connectors/postgres/target.js';
import { ConnectorInputError } from '../../src/connectors/types.js';
import { runConformance } from '../../src/connectors/conformance/index.js';
import type { TestLedger } from '../support/db.js';
import { freshDatabase, freshLedger } from '../support/db.js';

let db: TestLedger;
const cleanups: Array<() => Promise<void>> = [];
before(async () => {
  db = await freshLedger({ after: (fn: () => Promise<void>) => cleanups.push(fn) });
  await db.pool.query(
    `CREATE TABLE crm_accounts (id int PRIMARY KEY, name text NOT NULL, tier text NOT NULL, balance numeric NOT NULL DEFAULT 0)`,
  );
});
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

// These tables live in the test's ledger database, so the connector is allowed there on purpose.
const connector = () => postgresConnector({ pool: db.pool, allowLedgerDatabase: true });

async function row(id: number) {
  return (
    (await db.pool.query('SELECT to_jsonb(a) AS row FROM crm_accounts a WHERE id = $1', [id])).rows[0]?.row ?? null
  );
}

async function existing() {
  const id = randomInt(1, 2 ** 31 - 1);
  await db.pool.query(`INSERT INTO crm_accounts VALUES ($1, 'Acme', 'silver', 10)`, [id]);
  return id;
}

const drift = (id: number) => async () =>
  void (await db.pool.query(`UPDATE crm_accounts SET tier = 'drifted', balance = balance + 1 WHERE id = $1`, [id]));

/**
 * The table's owner adds a trigger that stores another tier than the one written to this row
 * (and keeps it from being deleted): the write returns what the trigger made of it.
 */
const tamper = (id: number) => async () => {
  const name = `tamper_${randomBytes(6).toString('hex')}`;
  await db.pool.query(`CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN RETURN CASE WHEN OLD.id = ${id} THEN NULL ELSE OLD END; END IF;
      IF NEW.id = ${id} THEN NEW.tier := lower(NEW.tier) || '-rewritten'; END IF;
      RETURN NEW;
    END $$`);
  await db.pool.query(
    `CREATE TRIGGER ${name} BEFORE INSERT OR UPDATE OR DELETE ON crm_accounts FOR EACH ROW EXECUTE FUNCTION ${name}()`,
  );
  return async () => void (await db.pool.query(`DROP TRIGGER ${name} ON crm_accounts; DROP FUNCTION ${name}()`));
};

runConformance({
  name: 'postgres',
  connector,
  action: 'update',
  badParams: [
    { params: { set: {} }, field: 'set' },
    { params: { set: { tier: 'x' }, where: 'id > 0' }, field: 'where' },
    { params: { set: 'gold' }, field: 'set' },
  ],
  fixture: async () => {
    const id = await existing();
    return {
      target: `public.crm_accounts/${id}`,
      params: { set: { tier: 'gold', balance: 99.5 } },
      readActual: () => row(id),
      drift: drift(id),
      tamper: tamper(id),
    };
  },
});

runConformance({
  name: 'postgres',
  connector,
  action: 'insert',
  badParams: [
    { params: {}, field: 'values' },
    { params: { values: [] }, field: 'values' },
  ],
  fixture: async () => {
    const id = randomInt(1, 2 ** 31 - 1);
    return {
      target: `crm_accounts/${id}`,
      params: { values: { name: 'Initech', tier: 'bronze' } },
      readActual: () => row(id),
      drift: drift(id),
      tamper: tamper(id),
    };
  },
});

runConformance({
  name: 'postgres',
  connector,
  action: 'upsert',
  badParams: [{ params: { values: {} }, field: 'values' }],
  fixture: async () => {
    const id = await existing();
    return {
      target: `public.crm_accounts/${id}`,
      params: { values: { tier: 'platinum' } },
      readActual: () => row(id),
      drift: drift(id),
      tamper: tamper(id),
    };
  },
});

runConformance({
  name: 'postgres',
  connector,
  action: 'delete',
  badParams: [{ params: { force: true }, field: 'force' }],
  fixture: async () => {
    const id = await existing();
    return {
      target: `public.crm_accounts/${id}`,
      params: {},
      readActual: () => row(id),
      tamper: tamper(id),
      drift: async () =>
        void (await db.pool.query(
          `INSERT INTO crm_accounts VALUES ($1, 'Resurrected', 'silver', 0) ON CONFLICT DO NOTHING`,
          [id],
        )),
    };
  },
});

test('execute refuses, writing nothing, when the row changed after the snapshot it was given', async () => {
  const id = await existing();
  const target = `public.crm_accounts/${id}`;
  const update = connector().actions.update!;
  const call = { target, params: { set: { tier: 'gold' } } };
  const before = await update.snapshot(call);
  await drift(id)();
  const changed = await row(id);
  await assert.rejects(update.execute(call, { idempotencyKey: `stale-${id}`, before }), (error: Error) => {
    assert.ok(error instanceof ConnectorInputError);
    assert.match(
      error.message,
      new RegExp(
        `${target.replace(/[./]/g, '\\$&')} changed since it was read \\(version ${before.version}, now sha256:[0-9a-f]{64}\\); nothing was written`,
      ),
    );
    return true;
  });
  assert.deepEqual(await row(id), changed, "the other writer's row is untouched");
  // With a fresh snapshot the same write goes through.
  await update.execute(call, { idempotencyKey: `fresh-${id}`, before: await update.snapshot(call) });
  assert.equal((await row(id)).tier, 'gold');
});

describe('what the connector may reach', () => {
  test('targets are read as PostgreSQL reads names: quotes kept, unquoted folded, no schema means public', () => {
    assert.deepEqual(parseTarget('WRIT.OPERATIONS/op-1'), { schema: 'writ', table: 'operations', key: 'op-1' });
    assert.deepEqual(parseTarget('"writ"."operations"/op-1'), { schema: 'writ', table: 'operations', key: 'op-1' });
    assert.deepEqual(parseTarget('"Odd ""name"".x"/a/b'), { schema: 'public', table: 'Odd "name".x', key: 'a/b' });
    assert.deepEqual(parseTarget('accounts/42'), { schema: 'public', table: 'accounts', key: '42' });
    for (const bad of [
      'a.b.c/1',
      'accounts',
      'accounts/',
      ' writ.operations/1',
      'writ .operations/1',
      '"unterminated/1',
      '""/1',
      `${'x'.repeat(64)}/1`,
    ]) {
      assert.throws(() => parseTarget(bad), ConnectorInputError, bad);
    }
    const update = connector().actions.update!;
    assert.equal(
      update.identity({ target: 'PUBLIC."crm_accounts"/7', params: {} }),
      'postgres:public.crm_accounts/7',
      'one table, one identity',
    );
    assert.equal(update.identity({ target: '"CRM".Accounts/7', params: {} }), 'postgres:"CRM".accounts/7');
  });

  test('reserved schemas are refused before anything is read, under every spelling', async () => {
    const update = connector().actions.update!;
    for (const target of [
      'writ.records/1',
      '"writ".operations/x',
      'Writ_Anchor.anchors/1',
      'writ_connector.executions/k',
      'pg_catalog.pg_authid/10',
      'information_schema.tables/x',
      'pg_toast.pg_toast_2619/1',
      'pg_temp_3.t/1',
    ]) {
      const call = { target, params: { set: { x: 1 } } };
      await assert.rejects(
        update.validate(call),
        (error: Error) => error instanceof ConnectorInputError && /belongs to (Writ|PostgreSQL)/.test(error.message),
        target,
      );
      await assert.rejects(update.snapshot(call), ConnectorInputError, target);
      await assert.rejects(
        update.execute(call, { idempotencyKey: randomUUID(), before: { version: 'absent', state: null } }),
        ConnectorInputError,
        target,
      );
    }
  });

  test('views, foreign tables and temporary tables are refused: a write through them can land anywhere', async () => {
    await db.pool.query(`CREATE VIEW crm_view AS SELECT * FROM crm_accounts`);
    await db.pool.query(`CREATE MATERIALIZED VIEW crm_mat AS SELECT * FROM crm_accounts`);
    const update = connector().actions.update!;
    await assert.rejects(
      update.validate({ target: 'crm_view/1', params: { set: { tier: 'x' } } }),
      /public\.crm_view is a view; this connector writes ordinary tables only/,
    );
    await assert.rejects(
      update.validate({ target: 'crm_mat/1', params: { set: { tier: 'x' } } }),
      /is a materialized view/,
    );
  });

  test('allowedTables limits the tables by their catalog names, and the environment sets it for the built-in', async () => {
    await db.pool.query(
      `CREATE SCHEMA IF NOT EXISTS sales; CREATE TABLE IF NOT EXISTS sales.deals (id int PRIMARY KEY, stage text)`,
    );
    const limited = postgresConnector({ pool: db.pool, allowLedgerDatabase: true, allowedTables: ['sales.*'] }).actions
      .update!;
    assert.deepEqual(await limited.validate({ target: 'SALES.deals/1', params: { set: { stage: 'won' } } }), [
      'no row with that key in sales.deals',
    ]);
    await assert.rejects(
      limited.validate({ target: 'crm_accounts/1', params: { set: { tier: 'x' } } }),
      /table public\.crm_accounts is not among the tables this connector may write \(sales\.\*\)/,
    );
    assert.throws(() => postgresConnector({ pool: db.pool, allowedTables: ['accounts'] }), /must be <schema>\.<table>/);
    const config = builtinConfigFromEnv('postgres://x/y', {
      WRIT_POSTGRES_CONNECTOR_TABLES: 'public.accounts, crm.*',
      WRIT_POSTGRES_CONNECTOR_ALLOW_LEDGER_DATABASE: 'true',
    });
    assert.deepEqual(config.postgresTables, ['public.accounts', 'crm.*']);
    assert.equal(config.postgresAllowLedgerDatabase, true);
    assert.equal(builtinConfigFromEnv('postgres://x/y', {}).postgresAllowLedgerDatabase, undefined, 'off unless set');
    assert.throws(
      () => builtinConfigFromEnv('postgres://x/y', { WRIT_POSTGRES_CONNECTOR_ALLOW_LEDGER_DATABASE: 'sure' }),
      /neither true nor false/,
    );
  });

  test('a database holding a Writ ledger is refused without allowLedgerDatabase, and another database is written without it', async (t) => {
    const ledgerOnly = postgresConnector({ pool: db.pool }).actions.update!;
    await assert.rejects(ledgerOnly.snapshot({ target: 'crm_accounts/1', params: {} }), /holds a Writ ledger/);

    // A target database of its own, with no ledger in it.
    const { pool } = await freshDatabase(t);
    await pool.query(
      `CREATE TABLE accounts (id int PRIMARY KEY, tier text NOT NULL); INSERT INTO accounts VALUES (1, 'silver')`,
    );
    const own = postgresConnector({ pool }).actions.update!;
    const call = { target: 'accounts/1', params: { set: { tier: 'gold' } } };
    const execution = await own.execute(call, { idempotencyKey: randomUUID(), before: await own.snapshot(call) });
    assert.equal((await own.verify(call, { before: { version: 'x', state: null }, execution })).ok, true);
    // An anchor database is Writ's too.
    await pool.query(`CREATE SCHEMA writ_anchor`);
    await assert.rejects(
      postgresConnector({ pool }).actions.update!.snapshot(call),
      /holds a Writ ledger or its anchors \(schema writ_anchor\)/,
    );
  });

  test("values may repeat the target's key but not name another row", async () => {
    const id = await existing();
    const upsert = connector().actions.upsert!;
    assert.match(
      (await upsert.validate({ target: `crm_accounts/${id}`, params: { values: { id: id + 1, tier: 'x' } } })).join(),
      /params\.values\.id: .* is not the target's key/,
    );
    assert.deepEqual(
      await upsert.validate({ target: `crm_accounts/${id}`, params: { values: { id, tier: 'x' } } }),
      [],
    );
  });

  test('a key that can never be a value of the key column is refused as bad input, not retried as a database failure', async () => {
    const update = connector().actions.update!;
    for (const call of [
      () => update.validate({ target: 'crm_accounts/abc', params: { set: { tier: 'x' } } }),
      () => update.snapshot({ target: 'crm_accounts/99999999999999', params: { set: { tier: 'x' } } }),
    ]) {
      await assert.rejects(
        call(),
        (error: Error) =>
          error instanceof ConnectorInputError &&
          /is not a valid integer for public\.crm_accounts\.id/.test(error.message),
      );
    }
  });
});

describe('verification checks what was asked, read through the column types', () => {
  test('a value the column type stores differently but equally passes (9 is 9.00 in numeric(10,2))', async () => {
    await db.pool.query(
      `CREATE TABLE IF NOT EXISTS priced (id int PRIMARY KEY, price numeric(10,2) NOT NULL, at timestamptz, status text)`,
    );
    await db.pool.query(`INSERT INTO priced VALUES (1, 5, now(), 'OPEN') ON CONFLICT DO NOTHING`);
    const update = connector().actions.update!;
    const call = { target: 'priced/1', params: { set: { price: 9, at: '2025-01-01T00:00:00Z' } } };
    const before = await update.snapshot(call);
    const execution = await update.execute(call, { idempotencyKey: randomUUID(), before });
    const verdict = await update.verify(call, { before, execution });
    assert.equal(verdict.ok, true, verdict.reason);
    assert.deepEqual(verdict.expected, { price: 9.0, at: '2025-01-01T00:00:00+00:00' });
  });

  test('a BEFORE UPDATE trigger that rewrites the value fails verification, though RETURNING agrees with the row', async () => {
    await db.pool.query(`CREATE TABLE IF NOT EXISTS tickets (id int PRIMARY KEY, status text NOT NULL)`);
    await db.pool.query(`INSERT INTO tickets VALUES (1, 'open') ON CONFLICT DO NOTHING`);
    await db.pool.query(
      `CREATE OR REPLACE FUNCTION lower_status() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.status := lower(NEW.status); RETURN NEW; END $$`,
    );
    await db.pool.query(
      `CREATE TRIGGER lower_status BEFORE UPDATE ON tickets FOR EACH ROW EXECUTE FUNCTION lower_status()`,
    );
    const update = connector().actions.update!;
    const call = { target: 'tickets/1', params: { set: { status: 'CHECKED' } } };
    const before = await update.snapshot(call);
    const execution = await update.execute(call, { idempotencyKey: randomUUID(), before });
    assert.equal(
      (execution.after as { status: string }).status,
      'checked',
      'the write echoes what the trigger made of it',
    );
    const verdict = await update.verify(call, { before, execution });
    assert.equal(verdict.ok, false);
    assert.equal(
      verdict.reason,
      'row 1 of public.tickets does not hold what was asked: status asked "CHECKED", holds "checked"',
    );
  });

  test('a trigger that silently drops the write fails verification', async () => {
    await db.pool.query(`CREATE TABLE IF NOT EXISTS frozen (id int PRIMARY KEY, v text NOT NULL)`);
    await db.pool.query(`INSERT INTO frozen VALUES (1, 'a') ON CONFLICT DO NOTHING`);
    await db.pool.query(
      `CREATE OR REPLACE FUNCTION keep_frozen() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$`,
    );
    await db.pool.query(
      `CREATE TRIGGER keep_frozen BEFORE UPDATE ON frozen FOR EACH ROW EXECUTE FUNCTION keep_frozen()`,
    );
    const update = connector().actions.update!;
    const call = { target: 'frozen/1', params: { set: { v: 'b' } } };
    const before = await update.snapshot(call);
    const execution = await update.execute(call, { idempotencyKey: randomUUID(), before });
    const verdict = await update.verify(call, { before, execution });
    assert.equal(verdict.ok, false);
    assert.match(verdict.reason ?? '', /v asked "b", holds "a"/);
  });
});
