import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runWrit } from '../support/cli.js';
import { ledgerWith } from '../support/tsa-bundle.js';
import type { Context } from '../support/tsa-bundle.js';

/**
 * The database owner damages the stored Merkle tree an export builds its proofs from. A node it
 * removed, or one it shortened, must stop the export with the reason: a bundle whose proofs fail
 * only at the auditor is evidence the ledger's own tooling let through.
 */
async function checkpointedTrace(t: Context) {
  const setup = await ledgerWith(t, undefined);
  await setup.append(1, 40);
  const checkpoint = await runWrit(['checkpoint'], { env: setup.env });
  assert.equal(checkpoint.code, 0, checkpoint.stdout + checkpoint.stderr);
  return setup;
}

/** Leaf 0's stored hash: in the proof of record 2, and not among the nodes the root of 40 leaves is checked from. */
const LEAF_0 = `chain_id = 'main' AND level = 0 AND idx = 0`;

describe('an export from a stored Merkle tree the owner damaged', () => {
  test('a node removed from writ.merkle_nodes stops the export, naming the node', async (t) => {
    const { ledger, exportBundle } = await checkpointedTrace(t);
    await ledger.pool.query('ALTER TABLE writ.merkle_nodes DISABLE TRIGGER merkle_nodes_no_update');
    await ledger.pool.query(`DELETE FROM writ.merkle_nodes WHERE ${LEAF_0}`);
    const { result } = await exportBundle();
    assert.notEqual(result.code, 0, result.stdout);
    assert.match(result.stderr, /the stored Merkle tree of chain main lacks node 0\/0/);
  });

  test('a node shortened to 31 bytes stops the export instead of yielding a proof that cannot verify', async (t) => {
    const { ledger, exportBundle } = await checkpointedTrace(t);
    const untouched = await exportBundle();
    assert.equal(untouched.result.code, 0, untouched.result.stdout + untouched.result.stderr);
    await ledger.pool.query('ALTER TABLE writ.merkle_nodes DISABLE TRIGGER merkle_nodes_no_update');
    await ledger.pool.query('ALTER TABLE writ.merkle_nodes DROP CONSTRAINT merkle_nodes_hash_check');
    await ledger.pool.query(`UPDATE writ.merkle_nodes SET hash = substring(hash FROM 1 FOR 31) WHERE ${LEAF_0}`);
    const { result } = await exportBundle();
    assert.notEqual(result.code, 0, result.stdout);
    assert.match(result.stderr, /the stored Merkle tree of chain main holds a node that is not 32 bytes/);
  });
});
