import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type pg from 'pg';
import { ensureLogins, urlAs } from '../../src/db/logins.js';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import { runWrit } from '../support/cli.js';
import { freshLedger } from '../support/db.js';
import { appendNotes, note } from '../support/records.js';
import { asRole, refusal } from '../support/roles.js';
import { keygen } from '../support/signing-key.js';
import { adminUrl } from '../support/urls.js';

type Context = Parameters<typeof freshLedger>[0];

/** A ledger of five records, with a signing key and the checkpointer's own login. */
async function ledgerWithCheckpointer(t: Context) {
  const ledger = await freshLedger(t);
  await ensureLogins(adminUrl());
  const { verifierKey, env: signing } = await keygen(mkdtempSync(join(tmpdir(), 'writ-checkpointer-')));
  const env = {
    DATABASE_URL: ledger.url,
    WRIT_CHECKPOINT_DATABASE_URL: urlAs(ledger.url, 'checkpoint'),
    WRIT_VERIFIER_KEY: verifierKey,
    ...signing,
  };
  await appendNotes(new GroupCommitAppender(ledger.pool), 5);
  return { ledger, env };
}

async function checkpointAndVerify(env: NodeJS.ProcessEnv, size: number) {
  const checkpoint = await runWrit(['checkpoint'], { env });
  assert.equal(checkpoint.code, 0, checkpoint.stdout + checkpoint.stderr);
  assert.match(checkpoint.stdout, new RegExp(`chain main: checkpoint at ${size} records`));
  const verify = await runWrit(['verify', '--json'], { env });
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  const report = JSON.parse(verify.stdout) as {
    findings: unknown[];
    chains: Array<{ chain: string; ok: boolean; records: number; checkpoints: { signaturesChecked: boolean } }>;
  };
  assert.deepEqual(
    report.chains.map((c) => [c.chain, c.ok, c.records, c.checkpoints.signaturesChecked]),
    [['main', true, size, true]],
  );
  assert.deepEqual(report.findings, []);
}

const BOGUS = Buffer.alloc(32, 7);

/** Every way a role might plant a node or a checkpoint, including ahead of the chain. */
function plantings(client: pg.PoolClient) {
  return {
    'a leaf at the next index': () =>
      client.query(`INSERT INTO writ.merkle_nodes (chain_id, level, idx, hash) VALUES ('main', 0, 5, $1)`, [BOGUS]),
    'a leaf at a future index': () =>
      client.query(`INSERT INTO writ.merkle_nodes (chain_id, level, idx, hash) VALUES ('main', 0, 1000, $1)`, [BOGUS]),
    'an interior node': () =>
      client.query(`INSERT INTO writ.merkle_nodes (chain_id, level, idx, hash) VALUES ('main', 2, 7, $1)`, [BOGUS]),
    'a checkpoint at a future size': () =>
      client.query(`INSERT INTO writ.checkpoints (chain_id, size, root, note) VALUES ('main', 1000, $1, 'x')`, [BOGUS]),
    'a checkpoint at a past size': () =>
      client.query(`INSERT INTO writ.checkpoints (chain_id, size, root, note) VALUES ('main', 3, $1, 'x')`, [BOGUS]),
    'the tree extended by hand': () => client.query(`SELECT * FROM writ.merkle_extend('main')`),
  };
}

describe('only the checkpointer writes checkpoints, and only what the records bear out', () => {
  test('when the writer role plants Merkle nodes or checkpoints, each is refused, and checkpointing and verify still succeed', async (t) => {
    const { ledger, env } = await ledgerWithCheckpointer(t);
    await asRole(ledger.pool, 'writ_writer', async (client) => {
      for (const [what, plant] of Object.entries(plantings(client))) {
        const error = await refusal(plant());
        assert.equal(error.code, '42501', `${what}: ${error.message}`);
      }
    });
    assert.equal((await ledger.pool.query('SELECT count(*)::int AS n FROM writ.merkle_nodes')).rows[0].n, 0);
    await checkpointAndVerify(env, 5);
    await new GroupCommitAppender(ledger.pool).appendAll([note(6), note(7)]);
    await checkpointAndVerify(env, 7);
  });

  test("when the checkpointer role plants a node or a wrong checkpoint, it is refused: a node is never chosen, a root must be the records'", async (t) => {
    const { ledger, env } = await ledgerWithCheckpointer(t);
    await asRole(ledger.pool, 'writ_checkpointer', async (client) => {
      const planted = plantings(client);
      for (const what of ['a leaf at the next index', 'a leaf at a future index', 'an interior node'] as const) {
        assert.equal((await refusal(planted[what]())).code, '42501', what);
      }
      assert.equal((await refusal(planted['a checkpoint at a future size']())).code, 'WRT21');
      assert.equal((await refusal(planted['a checkpoint at a past size']())).code, 'WRT22');
      // Extending is allowed, and computes exactly the nodes the records give.
      const head = (await client.query(`SELECT size, root, added FROM writ.merkle_extend('main')`)).rows[0];
      assert.equal(Number(head.size), 5);
      // The right root with a note that says something else.
      const error = await refusal(
        client.query(`INSERT INTO writ.checkpoints (chain_id, size, root, note) VALUES ('main', 5, $1, $2)`, [
          head.root,
          `acme.example/writ/main\n4\n${head.root.toString('base64')}\n\n`,
        ]),
      );
      assert.equal(error.code, 'WRT23', error.message);
    });
    assert.equal((await ledger.pool.query('SELECT count(*)::int AS n FROM writ.checkpoints')).rows[0].n, 0);
    await checkpointAndVerify(env, 5);
  });

  test("when even the tables' owner inserts a wrong root, the trigger refuses it", async (t) => {
    const { ledger } = await ledgerWithCheckpointer(t);
    const error = await refusal(
      ledger.pool.query(`INSERT INTO writ.checkpoints (chain_id, size, root, note) VALUES ('main', 5, $1, 'x')`, [
        BOGUS,
      ]),
    );
    assert.equal(error.code, 'WRT22', error.message);
  });

  test("when checkpointing runs as the writer's login, it fails saying which login it needs", async (t) => {
    const { ledger, env } = await ledgerWithCheckpointer(t);
    await ensureLogins(adminUrl());
    const result = await runWrit(['checkpoint'], {
      env: { ...env, WRIT_CHECKPOINT_DATABASE_URL: urlAs(ledger.url, 'worker') },
    });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /writ_checkpointer/);
  });
});
