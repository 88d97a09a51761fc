import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { builtinConfigFromEnv, builtinConnectors } from '../../src/connectors/builtins/index.js';
import { postgresConnector } from '../../src/connectors/postgres/index.js';
import type { JsonObject } from '../../src/model/json.js';
import type { OperationRequestInput } from '../../src/model/request.js';
import { ledgerEvents, startWrit, updateTier } from '../support/writ.js';
import type { TestLedger } from '../support/db.js';

const attack = (target: string, set: JsonObject): OperationRequestInput => ({
  actor: { id: 'mallory', kind: 'user' },
  intent: 'tidy up an old operation',
  steps: [{ connector: 'postgres', action: 'update', target, params: { set } }],
});

/** Every row of Writ's schemas and of the catalogs an attacker would aim at, as text. */
async function protectedState(ledger: TestLedger, victim: string): Promise<string> {
  const { rows } = await ledger.pool.query(
    `
    SELECT (SELECT to_jsonb(o) FROM writ.operations o WHERE operation_id = $1)::text AS operation,
           (SELECT jsonb_agg(r.record ORDER BY r.seq) FROM writ.records r WHERE r.operation_id = $1)::text AS records,
           (SELECT jsonb_agg(to_jsonb(e) ORDER BY e.idempotency_key) FROM writ_connector.executions e)::text AS executions,
           (SELECT jsonb_agg(jsonb_build_array(rolname, rolsuper, rolcanlogin) ORDER BY rolname) FROM pg_authid)::text AS roles`,
    [victim],
  );
  return JSON.stringify(rows[0]);
}

async function refusedAtValidation(
  ledger: TestLedger,
  writ: Awaited<ReturnType<typeof startWrit>>['writ'],
  request: OperationRequestInput,
): Promise<string> {
  const { operationId } = await writ.start(request);
  const result = await writ.result(operationId);
  const events = await ledgerEvents(ledger, operationId);
  assert.equal(
    result.outcome,
    'invalid',
    `${request.steps[0]!.target} is refused, not written (events: ${events.map((e) => e.type).join(', ')})`,
  );
  assert.ok(!events.some((e) => e.type.startsWith('step.')), `no step of ${request.steps[0]!.target} ran`);
  const failed = events.find((e) => e.type === 'operation.validation_failed');
  assert.ok(failed, `${request.steps[0]!.target} failed validation`);
  return JSON.stringify(failed.payload.problems);
}

describe("when a governed write aims at Writ's own tables or PostgreSQL's", () => {
  test('every spelling is refused at validation and nothing in writ.* or the catalogs changes', async (t) => {
    // The connector is allowed the ledger's database on purpose here, as the demo is: Writ's own
    // schemas must stay out of reach even then.
    const { ledger, writ } = await startWrit(t);
    const victim = (await writ.start(updateTier())).operationId;
    assert.equal((await writ.result(victim)).outcome, 'succeeded');
    // A view and a table whose child lives in writ: ways round a check on the name alone.
    await ledger.pool.query(`CREATE VIEW public.ops AS SELECT * FROM writ.operations`);
    await ledger.pool.query(`CREATE TABLE public.parent (operation_id text PRIMARY KEY, outcome text)`);
    await ledger.pool.query(
      `CREATE TABLE writ.smuggled (operation_id text PRIMARY KEY, outcome text) INHERITS (public.parent)`,
    );
    await ledger.pool.query(`CREATE TABLE public.redirected (operation_id text PRIMARY KEY, outcome text)`);
    await ledger.pool.query(
      `CREATE RULE redirect AS ON UPDATE TO public.redirected DO INSTEAD UPDATE writ.operations SET outcome = NEW.outcome WHERE operation_id = NEW.operation_id`,
    );
    // New sessions look in writ first: an unqualified name must still not land there.
    await ledger.pool.query(`ALTER DATABASE ${ledger.name} SET search_path TO writ, public`);
    const before = await protectedState(ledger, victim);

    const attempts: Array<[string, JsonObject, RegExp]> = [
      [`writ.operations/${victim}`, { outcome: 'failed' }, /schema writ belongs to Writ/],
      [`"writ".operations/${victim}`, { outcome: 'failed' }, /schema writ belongs to Writ/],
      [`WRIT.OPERATIONS/${victim}`, { outcome: 'failed' }, /schema writ belongs to Writ/],
      [`"writ"."operations"/${victim}`, { outcome: 'failed' }, /schema writ belongs to Writ/],
      [`writ_connector.executions/x`, { action: 'forged' }, /schema writ_connector belongs to Writ/],
      ['pg_catalog.pg_authid/10', { rolsuper: true }, /schema pg_catalog belongs to PostgreSQL/],
      ['PG_CATALOG.pg_authid/10', { rolsuper: true }, /schema pg_catalog belongs to PostgreSQL/],
      [
        'information_schema.sql_features/B011',
        { is_supported: 'NO' },
        /schema information_schema belongs to PostgreSQL/,
      ],
      ['pg_toast.pg_toast_1255/1', { chunk_seq: 1 }, /schema pg_toast belongs to PostgreSQL/],
      ['pg_temp.anything/1', { x: 1 }, /schema pg_temp belongs to PostgreSQL/],
      // No schema means public, never the search path (pg_catalog is always on it).
      [`pg_authid/10`, { rolsuper: true }, /table public\.pg_authid does not exist/],
      [`operations/${victim}`, { outcome: 'failed' }, /table public\.operations does not exist/],
      [`"operations"/${victim}`, { outcome: 'failed' }, /table public\.operations does not exist/],
      [
        `public.ops/${victim}`,
        { outcome: 'failed' },
        /public\.ops is a view; this connector writes ordinary tables only/,
      ],
      [`public.parent/${victim}`, { outcome: 'failed' }, /its child or partition writ\.smuggled is out of reach/],
      [`public.redirected/${victim}`, { outcome: 'failed' }, /has rules/],
    ];
    for (const [target, set, refusal] of attempts) {
      assert.match(await refusedAtValidation(ledger, writ, attack(target, set)), refusal, target);
    }
    assert.equal(
      await protectedState(ledger, victim),
      before,
      'writ.operations, writ.records, writ_connector and pg_authid are exactly as they were',
    );
  });
});

describe("the ledger's database", () => {
  test('is refused unless the connector is configured to write there on purpose, however its URL is spelled', async (t) => {
    const { ledger, writ } = await startWrit(t, {
      // Another spelling of the ledger's URL: the check asks the database, not the string.
      connectors: (l) =>
        builtinConnectors(
          builtinConfigFromEnv(l.url.replace('127.0.0.1', 'localhost') + '?application_name=elsewhere', {}),
        ),
    });
    const problems = await refusedAtValidation(ledger, writ, updateTier());
    assert.match(
      problems,
      /holds a Writ ledger or its anchors \(schema writ\), and it writes there only when configured to on purpose/,
    );
    assert.match(problems, /WRIT_POSTGRES_CONNECTOR_ALLOW_LEDGER_DATABASE=true/);
    assert.equal((await ledger.pool.query(`SELECT tier FROM accounts WHERE id = 42`)).rows[0].tier, 'silver');
  });

  test('with WRIT_POSTGRES_CONNECTOR_ALLOW_LEDGER_DATABASE=true it is written, within WRIT_POSTGRES_CONNECTOR_TABLES', async (t) => {
    const { ledger, writ } = await startWrit(t, {
      connectors: (l) =>
        builtinConnectors(
          builtinConfigFromEnv(l.url, {
            WRIT_POSTGRES_CONNECTOR_ALLOW_LEDGER_DATABASE: 'true',
            WRIT_POSTGRES_CONNECTOR_TABLES: 'public.accounts, crm.*',
          }),
        ),
    });
    await ledger.pool.query(`CREATE TABLE public.payroll (id int PRIMARY KEY, salary numeric NOT NULL)`);
    await ledger.pool.query(`INSERT INTO public.payroll VALUES (1, 1000)`);
    const { operationId } = await writ.start(updateTier());
    assert.equal((await writ.result(operationId)).outcome, 'succeeded');
    assert.equal((await ledger.pool.query(`SELECT tier FROM accounts WHERE id = 42`)).rows[0].tier, 'gold');
    const problems = await refusedAtValidation(ledger, writ, attack('public.payroll/1', { salary: 1_000_000 }));
    assert.match(
      problems,
      /table public\.payroll is not among the tables this connector may write \(public\.accounts, crm\.\*\)/,
    );
    assert.equal((await ledger.pool.query(`SELECT salary FROM public.payroll WHERE id = 1`)).rows[0].salary, '1000');
  });

  test('an allowed table glob never opens a reserved schema', async (t) => {
    const { ledger, writ } = await startWrit(t, {
      connectors: (l) => [postgresConnector({ pool: l.pool, allowLedgerDatabase: true, allowedTables: ['*.*'] })],
    });
    const victim = (await writ.start(updateTier())).operationId;
    await writ.result(victim);
    const before = await protectedState(ledger, victim);
    assert.match(
      await refusedAtValidation(ledger, writ, attack(`writ.operations/${victim}`, { outcome: 'failed' })),
      /schema writ belongs to Writ/,
    );
    assert.equal(await protectedState(ledger, victim), before);
  });
});
