/**
 * Compose's topology, run for real on this machine (no Docker engine here): the Temporal server
 * release Compose pins, on PostgreSQL made by Compose's init scripts and schema job, its namespace
 * and search attributes registered by Compose's jobs, the Web UI server, `writ migrate` as the
 * owner, a `writ worker` that logs in as writ_worker (writ_writer only) and `writ serve` as
 * writ_serve. On it: approval, rollback, dry run, an evidence bundle verified offline, the
 * timeline page, and the Web UI in headless Chromium.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { issueLinks } from '../../src/serve/issue-links.js';
import { browserUnavailable } from '../support/browser.js';
import { runWrit } from '../support/cli.js';
import { ASSERTED_IDENTITIES } from '../support/identities.js';
import type { Topology } from '../support/topology/production.js';
import { startTopology } from '../support/topology/production.js';
import { spawnServe } from '../support/serve-process.js';
import { walkWebUi } from '../support/web-ui-walk.js';
import { updateTier, waitForState } from '../support/writ.js';

const policy = {
  id: 'topology-policy',
  identity: ASSERTED_IDENTITIES,
  rules: [
    {
      name: 'tier-changes-need-a-manager',
      match: { connector: 'postgres', action: 'update', target: 'public.accounts/*' },
      risk: 'high',
      approvals: { required: 1, fromGroups: ['managers'], windowMs: 600_000 },
    },
  ],
};
const approvers = { approvers: [{ id: 'bob', groups: ['managers'] }] };

describe('the Compose topology, natively: Temporal 1.32 on PostgreSQL, Compose scripts and logins', () => {
  let topology: Topology;
  let targets: pg.Pool;
  let owner: pg.Pool;
  const cleanups: Array<() => Promise<void>> = [];

  before(async () => {
    topology = await startTopology({ nodeIps: ['127.0.0.4'], ui: true, policy, approvers });
    cleanups.push(() => topology.stop());
    targets = new pg.Pool({ connectionString: topology.urls.connector, max: 2 });
    owner = new pg.Pool({ connectionString: topology.urls.owner, max: 2 });
    cleanups.push(
      () => targets.end(),
      () => owner.end(),
    );
    // The connector's own table in its own database, as its own login; a trigger plays the other
    // system that overrules one write (tier 'diamond' is not allowed there), so verification fails.
    await targets.query(`CREATE TABLE accounts (id int PRIMARY KEY, name text NOT NULL, tier text NOT NULL)`);
    await targets.query(`INSERT INTO accounts SELECT g, 'account ' || g, 'silver' FROM generate_series(1, 50) g`);
    await targets.query(`CREATE FUNCTION no_diamonds() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.tier = 'diamond' THEN NEW.tier := 'platinum'; END IF; RETURN NEW; END $$`);
    await targets.query(
      `CREATE TRIGGER no_diamonds BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION no_diamonds()`,
    );
    await topology.startWorker();
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: Error) => console.error(error.message));
  });

  test("the server is the release Compose pins, on PostgreSQL persistence and SQL visibility with Writ's attributes", async () => {
    const { client } = await topology.client();
    const info = await client.connection.workflowService.getSystemInfo({});
    assert.equal(info.serverVersion, topology.binaries.serverVersion);
    const tables = await owner.query(`SELECT datname FROM pg_database WHERE datname LIKE 'temporal%' ORDER BY 1`);
    assert.deepEqual(
      tables.rows.map((row) => row.datname),
      ['temporal', 'temporal_visibility'],
    );
    const { customAttributes } = await client.connection.operatorService.listSearchAttributes({ namespace: 'default' });
    for (const name of ['WritState', 'WritCorrelationId', 'WritActor', 'WritConnector', 'WritRisk', 'WritMode'])
      assert.ok(customAttributes?.[name], `${name} is registered`);
  });

  test('the worker logs in as writ_worker: no superuser, writ_writer only', async () => {
    const roles = await owner.query(
      `SELECT r.rolsuper, r.rolbypassrls, array(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
         WHERE m.member = r.oid ORDER BY 1) AS groups FROM pg_roles r WHERE r.rolname = 'writ_worker'`,
    );
    assert.deepEqual(roles.rows[0], { rolsuper: false, rolbypassrls: false, groups: ['writ_writer'] });
  });

  test('an approval, a rollback and a dry run end as they should, and only the approved write changed its target', async () => {
    const { writ } = await topology.client();
    const approved = await writ.start(updateTier({ steps: [step(1, 'gold')] }));
    await waitForState(writ, approved.operationId, 'awaiting_approval', 60_000);
    assert.equal(
      (await writ.approve(approved.operationId, { approver: 'bob', reason: 'renewal signed' })).accepted,
      true,
    );
    assert.equal((await writ.result(approved.operationId)).outcome, 'succeeded');
    // The pool keeps its connections for a while after use: the appends just made came through this login.
    const sessions = await owner.query(
      `SELECT DISTINCT usename FROM pg_stat_activity WHERE application_name = 'writ-worker' AND datname = 'writ'`,
    );
    assert.deepEqual(sessions.rows, [{ usename: 'writ_worker' }], 'the worker appends as writ_worker');

    const overruled = await writ.start(updateTier({ steps: [step(2, 'diamond')] }));
    await waitForState(writ, overruled.operationId, 'awaiting_approval', 60_000);
    await writ.approve(overruled.operationId, { approver: 'bob', reason: 'try diamond' });
    assert.equal((await writ.result(overruled.operationId)).outcome, 'rolled_back');

    const dry = await writ.start(updateTier({ mode: 'dry-run', steps: [step(3, 'gold')] }));
    assert.equal((await writ.result(dry.operationId)).outcome, 'dry_run');

    const rows = await targets.query(`SELECT id, tier FROM accounts WHERE id IN (1, 2, 3) ORDER BY id`);
    assert.deepEqual(rows.rows, [
      { id: 1, tier: 'gold' },
      { id: 2, tier: 'silver' },
      { id: 3, tier: 'silver' },
    ]);
    const types = await owner.query(
      `SELECT operation_id, array_agg(record->>'type' ORDER BY seq) AS types FROM writ.records
        WHERE operation_id = ANY($1) GROUP BY 1`,
      [[approved.operationId, overruled.operationId, dry.operationId]],
    );
    const byId = new Map(types.rows.map((row) => [row.operation_id as string, row.types as string[]]));
    assert.ok(byId.get(approved.operationId)?.includes('approval.granted'));
    assert.ok(byId.get(overruled.operationId)?.some((type) => type.startsWith('step.compensat')));
    const preview = await owner.query(
      `SELECT record->'payload'->>'dryRun' AS dry FROM writ.records WHERE operation_id = $1 AND event_type = 'step.executed'`,
      [dry.operationId],
    );
    assert.deepEqual(preview.rows, [{ dry: 'true' }], 'a dry run records a preview, not an execution');

    // The evidence: signed by the checkpoint login, exported as the reader, verified offline.
    const bundle = join(topology.dir, 'bundle');
    const env = {
      DATABASE_URL: topology.urls.serve,
      WRIT_CHECKPOINT_DATABASE_URL: topology.urls.checkpoint,
      WRIT_SIGNING_KEY: topology.workerEnv().WRIT_SIGNING_KEY!,
      WRIT_ANCHOR_DIR: topology.workerEnv().WRIT_ANCHOR_DIR!,
    };
    const exported = await runWrit(['export', approved.operationId, '--out', bundle], { env });
    assert.equal(exported.code, 0, exported.stdout + exported.stderr);
    const verified = await runWrit(['verify-bundle', bundle, '--verifier-key', topology.verifierKey()], { env });
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    const whole = await runWrit(['verify'], { env: { ...env, WRIT_VERIFIER_KEY: topology.verifierKey() } });
    assert.equal(whole.code, 0, whole.stdout + whole.stderr);

    // The timeline page, from `writ serve` logged in as writ_serve.
    const serve = await spawnServe(topology.urls.serve, 'topology-link-secret');
    cleanups.push(async () => {
      await serve.stop();
    });
    const links = issueLinks({
      baseUrl: serve.url,
      secret: 'topology-link-secret',
      id: approved.operationId,
      requester: 'dana',
      nowMs: Date.now(),
    });
    const page = await fetch(links.timeline);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, new RegExp(approved.operationId));
    assert.match(html, /bob/);
  });

  test('the Web UI server lists and shows operations', { skip: browserUnavailable() ?? false }, async (t) => {
    const { client, writ } = await topology.client();
    const actor = `ui-${randomBytes(3).toString('hex')}`;
    const waiting = await writ.start(
      updateTier({ actor: { id: actor, kind: 'user', groups: ['sales-ops'] }, steps: [step(42, 'gold')] }),
    );
    await waitForState(writ, waiting.operationId, 'awaiting_approval', 60_000);
    const done = await writ.start({
      actor: { id: actor, kind: 'user', groups: ['sales-ops'] },
      intent: 'add a prospect',
      steps: [
        {
          connector: 'postgres',
          action: 'insert',
          target: 'public.accounts/144',
          params: { values: { id: 144, name: 'Initech', tier: 'bronze' } },
        },
      ],
    });
    assert.equal((await writ.result(done.operationId)).outcome, 'succeeded');
    await walkWebUi({
      ui: topology.ui!.url,
      client,
      writ,
      actor,
      waiting,
      done,
      policyId: policy.id,
      prefix: 'topology-webui',
      after: (fn) => t.after(fn),
    });
  });
});

function step(id: number, tier: string) {
  return { connector: 'postgres', action: 'update', target: `public.accounts/${id}`, params: { set: { tier } } };
}
