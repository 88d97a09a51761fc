/**
 * Two Temporal server processes sharing one PostgreSQL persistence (ring membership between
 * 127.0.0.2 and 127.0.0.3, a TCP load balancer in front), two `writ worker`s as writ_worker, and
 * over 200 governed writes in flight, some waiting for approval, some executing. Then production's
 * faults, at different moments: a Temporal node killed, a worker killed, PostgreSQL itself
 * restarted. Every operation must end as it would have without them, the ledger must stay one
 * chain with no gap and no duplicate, every target must change exactly as often as its outcome
 * says, and `writ verify` must find the ledger intact. The figures go to test-artifacts.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import pg from 'pg';
import type { WritClient } from '../../src/client.js';
import { REPO_ROOT, runWrit } from '../support/cli.js';
import { ASSERTED_IDENTITIES } from '../support/identities.js';
import type { Topology } from '../support/topology/production.js';
import { startTopology } from '../support/topology/production.js';
import { expectedOutcome, faultLoad } from '../support/topology/fault-load.js';
import { countRetries, decide, settle } from '../support/topology/fault-steps.js';
import { stallReport } from '../support/topology/stall-report.js';
import { waitFor } from '../support/writ.js';

const policy = {
  id: 'cluster-policy',
  identity: ASSERTED_IDENTITIES,
  rules: [
    {
      name: 'accounts-need-a-manager',
      match: { connector: 'postgres', target: 'public.accounts/*' },
      risk: 'high',
      approvals: { required: 1, fromGroups: ['managers'], windowMs: 3_600_000 },
    },
    { name: 'notes-are-routine', match: { connector: 'postgres', target: 'public.notes/*' }, risk: 'low' },
  ],
};
const approvers = { approvers: [{ id: 'bob', groups: ['managers'] }] };
const ACCOUNTS = 100;
const NOTES = 120;

let topology: Topology | undefined;
after(() => topology?.stop());

test('a two-node Temporal cluster and two workers survive a node kill, a worker kill and a PostgreSQL restart under load', async (t) => {
  topology = await startTopology({ nodeIps: ['127.0.0.2', '127.0.0.3'], policy, approvers });
  const targets = new pg.Pool({ connectionString: topology.urls.connector, max: 2 });
  // The test's own reads give up rather than hang on a connection the restart cut: a stall it
  // reports must be Writ's, not the probe's.
  const bounded = { connectionTimeoutMillis: 10_000, query_timeout: 10_000 };
  const owner = new pg.Pool({ connectionString: topology.urls.owner, max: 2, ...bounded });
  // PostgreSQL restarting ends idle connections: the pools reconnect, the test must not crash.
  for (const pool of [targets, owner]) pool.on('error', () => undefined);
  t.after(async () => {
    await targets.end().catch(() => undefined);
    await owner.end().catch(() => undefined);
  });
  await faultLoad.createTables(targets, ACCOUNTS, NOTES);
  // One ring, not two clusters that happen to share tables: both nodes are live members of it.
  const temporalDb = new pg.Client({
    connectionString: topology.cluster.url('writ', topology.secrets.POSTGRES_PASSWORD, 'temporal'),
  });
  await temporalDb.connect();
  const members = await temporalDb.query(
    `SELECT DISTINCT rpc_address FROM cluster_membership WHERE record_expiry > now() AT TIME ZONE 'UTC' ORDER BY 1`,
  );
  await temporalDb.end();
  assert.deepEqual(
    members.rows.map((row) => row.rpc_address),
    ['127.0.0.2', '127.0.0.3'],
  );
  const workerA = await topology.startWorker();
  const workerB = await topology.startWorker();
  const { client, writ } = await topology.client();

  const began = Date.now();
  const requests = faultLoad.requests(ACCOUNTS, NOTES);
  const started = await settle(
    requests.map((request) => () => writ.start(request.input)),
    20,
  );
  const ids = new Map(started.map((handle, index) => [handle.operationId, requests[index]!]));
  const figures: Record<string, unknown> = { operations: ids.size, temporalNodes: 2, workers: 2 };
  const decisions = { made: 0, lastError: '' };
  const decideCounted = async (id: string, request: (typeof requests)[number]) => {
    try {
      await decide(writ, id, request);
      decisions.made += 1;
    } catch (error) {
      decisions.lastError = (error as Error).message.slice(0, 200);
      throw error;
    }
  };
  const probe = { lastError: '' };
  const maxSeq = async () => {
    try {
      return Number((await owner.query('SELECT coalesce(max(seq), 0) AS s FROM writ.records')).rows[0].s);
    } catch (error) {
      probe.lastError = (error as Error).message;
      throw error;
    }
  };
  const recovery = async (fault: string, inject: () => Promise<void>) => {
    const at = Date.now();
    await inject();
    // Read again until it answers: a read the fault cut short must not stand in as seq 0, which any
    // record would pass, recovered or not.
    let seq = 0;
    await waitFor(
      `the ledger's head after ${fault}`,
      async () => {
        seq = await maxSeq();
        return true;
      },
      60_000,
    );
    try {
      await waitFor(`a record appended after ${fault}`, async () => (await maxSeq()) > seq, 180_000);
    } catch (error) {
      const witnesses = { workers: [workerA, workerB], nodes: topology!.nodes, client, progress: { decisions, probe } };
      // The stall is the finding: a report that fails itself says so rather than replacing it.
      const report = await stallReport(fault, { ...witnesses, operationIds: [...ids.keys()] }).catch(
        (failure: Error) => `(the stall report failed: ${failure.message})`,
      );
      throw new Error(`${(error as Error).message} (the ledger stood at seq ${seq})\n${report}`, { cause: error });
    }
    figures[`${fault}RecoveredMs`] = Date.now() - at;
    t.diagnostic(
      `${fault}: appends resumed after ${Date.now() - at} ms (${Math.round((Date.now() - began) / 1000)} s in)`,
    );
  };

  // Fault 1: routine writes are executing (their table's trigger makes each take a while).
  await waitFor('some routine writes closed', async () => (await faultLoad.closed(owner)) >= 10, 120_000);
  await recovery('temporalNodeKill', () => topology!.nodes[0]!.kill());

  // Fault 2: every account waits for approval; half are decided, and a worker dies while they execute.
  await waitFor('all accounts awaiting approval', async () => (await faultLoad.awaiting(owner)) === ACCOUNTS, 240_000);
  const accounts = [...ids].filter(([, request]) => request.kind === 'account');
  const firstHalf = accounts.slice(0, ACCOUNTS / 2);
  await settle(
    firstHalf.map(
      ([id, request]) =>
        () =>
          decideCounted(id, request),
    ),
    10,
  );
  await recovery('workerKill', () => workerA.kill());

  // Fault 3: PostgreSQL itself restarts while the rest are decided and execute.
  const secondHalf = accounts.slice(ACCOUNTS / 2);
  const deciding = settle(
    secondHalf.map(
      ([id, request]) =>
        () =>
          decideCounted(id, request),
    ),
    10,
  );
  await recovery('postgresRestart', () => topology!.cluster.restart());
  await deciding;

  const results = await settle(
    [...ids.keys()].map((id) => () => (writ as WritClient).result(id)),
    20,
  );
  figures.allClosedMs = Date.now() - began;
  [...ids.values()].forEach((request, index) =>
    assert.equal(results[index]!.outcome, expectedOutcome(request), `${request.input.intent}`),
  );

  await faultLoad.assertTargets(targets, ACCOUNTS, NOTES);
  await faultLoad.assertLedger(owner, [...ids.keys()]);
  const verified = await runWrit(['verify'], {
    env: { DATABASE_URL: topology.urls.serve, WRIT_VERIFIER_KEY: topology.verifierKey() },
  });
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);

  Object.assign(figures, await countRetries(client, [...ids.keys()]));
  figures.balancedConnections = Object.fromEntries(topology.balancer!.counts);
  mkdirSync(join(REPO_ROOT, 'test-artifacts'), { recursive: true });
  writeFileSync(join(REPO_ROOT, 'test-artifacts', 'topology-faults.json'), `${JSON.stringify(figures, null, 2)}\n`);
  t.diagnostic(JSON.stringify(figures));
});
