/**
 * A worker on a host of its own (a network namespace) loses its network path to PostgreSQL for
 * longer than its pool's timeouts, in the middle of a run of governed writes, while Temporal stays
 * reachable. Nothing may be lost: every operation closes as it would have, each target changes
 * once, the chain has no gap and no duplicate, and appends resume on their own once the path is back.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import pg from 'pg';
import { runWrit } from '../support/cli.js';
import { ASSERTED_IDENTITIES } from '../support/identities.js';
import { faultLoad } from '../support/topology/fault-load.js';
import { settle } from '../support/topology/fault-steps.js';
import { waitFor } from '../support/writ.js';
import type { WorkerHost } from '../support/topology/netns.js';
import { createWorkerHost, networkNamespaceUnavailable } from '../support/topology/netns.js';
import type { Topology } from '../support/topology/production.js';
import { startTopology } from '../support/topology/production.js';
import { startTcpBalancer } from '../support/topology/tcp-balancer.js';

const policy = {
  id: 'cut-policy',
  identity: ASSERTED_IDENTITIES,
  rules: [{ name: 'notes-are-routine', match: { connector: 'postgres', target: 'public.notes/*' }, risk: 'low' }],
};
const NOTES = 60;
/** The worker's pool gives up on a silent query after this long; the cut lasts four times as long. */
const QUERY_TIMEOUT_MS = 5_000;
const CUT_MS = 20_000;

/** True once no backend serving the worker's host is executing a statement (only the superuser sees them all). */
async function noneRunningFrom(superuser: pg.Pool, workerHost: WorkerHost): Promise<boolean> {
  const running = await superuser.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE client_addr <<= $1::inet AND state = 'active'`,
    [workerHost.postgresNetwork],
  );
  return running.rows[0].n === 0;
}

let host: WorkerHost | undefined;
let topology: Topology | undefined;
after(async () => {
  await topology?.stop();
  await host?.remove();
});

test(
  'a worker cut off from PostgreSQL for longer than its pool timeouts loses no record and resumes appending',
  { skip: (await networkNamespaceUnavailable()) ?? false },
  async (t) => {
    host = await createWorkerHost();
    topology = await startTopology({
      nodeIps: ['127.0.0.5'],
      policy,
      approvers: { approvers: [] },
      postgresListen: [host.postgresGateway],
      postgresNetworks: [host.postgresNetwork],
    });
    const gateway = await startTcpBalancer([topology.nodes[0]!.address], host.temporalGateway);
    t.after(() => gateway.close());
    const targets = new pg.Pool({ connectionString: topology.urls.connector, max: 2 });
    const owner = new pg.Pool({ connectionString: topology.urls.owner, max: 2 });
    const superuser = new pg.Pool({ connectionString: topology.cluster.superuserUrl(), max: 1 });
    for (const pool of [targets, owner, superuser]) pool.on('error', () => undefined);
    t.after(async () => {
      for (const pool of [targets, owner, superuser]) await pool.end().catch(() => undefined);
    });
    await faultLoad.createTables(targets, 0, NOTES);
    const overTheLink = (url: string) => url.replace('@127.0.0.1:', `@${host!.postgresGateway}:`);
    const worker = await topology.startWorker(
      {
        TEMPORAL_ADDRESS: gateway.address,
        DATABASE_URL: overTheLink(topology.urls.worker),
        WRIT_CHECKPOINT_DATABASE_URL: overTheLink(topology.urls.checkpoint),
        WRIT_POSTGRES_CONNECTOR_URL: overTheLink(topology.urls.connector),
        WRIT_DB_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS),
      },
      host.exec,
    );
    const { writ } = await topology.client();
    const requests = faultLoad.requests(0, NOTES);
    const started = await settle(
      requests.map((request) => () => writ.start(request.input)),
      10,
    );
    await waitFor('some writes closed', async () => (await faultLoad.closed(owner)) >= 5, 120_000);

    await host.cutPostgres();
    const cutAt = Date.now();
    // A statement PostgreSQL had whole before the link went dark still runs and may commit (a batch
    // of records, on a loaded machine seconds later): the cut is judged once none is left running.
    await waitFor('the statements sent before the cut to finish', () => noneRunningFrom(superuser, host!), 10_000);
    const seqAtCut = Number((await owner.query('SELECT max(seq) AS s FROM writ.records')).rows[0].s);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, CUT_MS - (Date.now() - cutAt))));
    const seqAfterCut = Number((await owner.query('SELECT max(seq) AS s FROM writ.records')).rows[0].s);
    assert.equal(seqAfterCut, seqAtCut, `the cut held: ${seqAfterCut - seqAtCut} records arrived through it`);
    assert.equal(worker.child.exitCode, null, `the worker rides out the cut:\n${worker.output().slice(-2000)}`);
    await host.restorePostgres();
    const restoredAt = Date.now();
    await waitFor(
      'an append after the path came back',
      async () => {
        const now = Number((await owner.query('SELECT max(seq) AS s FROM writ.records')).rows[0].s);
        return now > seqAfterCut;
      },
      120_000,
    );
    const resumedMs = Date.now() - restoredAt;

    const results = await settle(
      started.map((handle) => () => writ.result(handle.operationId)),
      10,
    );
    for (const result of results) assert.equal(result.outcome, 'succeeded');
    await faultLoad.assertTargets(targets, 0, NOTES);
    await faultLoad.assertLedger(
      owner,
      started.map((handle) => handle.operationId),
    );
    const verified = await runWrit(['verify'], {
      env: { DATABASE_URL: topology.urls.serve, WRIT_VERIFIER_KEY: topology.verifierKey() },
    });
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    // The pool gave up on the silent connection and the append was retried, rather than hanging
    // until TCP or the activity's own timeout gave up.
    const timedOut = worker
      .output()
      .split('\n')
      .filter((line) => /Query read timeout|timeout exceeded when trying to connect|connection timeout/i.test(line));
    assert.ok(timedOut.length > 0, `the worker's pool timed out during the cut:\n${worker.output().slice(-3000)}`);
    t.diagnostic(JSON.stringify({ operations: NOTES, cutMs: CUT_MS, resumedMs, poolTimeouts: timedOut.length }));
  },
);
