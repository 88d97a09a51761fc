import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runWrit } from '../support/cli.js';
import { ledgerWith, python, verifyBundle } from '../support/tsa-bundle.js';
import type { Context } from '../support/tsa-bundle.js';

/**
 * The database owner damages the stored Merkle tree an export builds its proofs from. A node it
 * removed or shortened stops the export with the reason. A node it changed below the ones the root
 * is computed from is not checked at export (that would cost more than building the proofs): both
 * verifiers refuse the proof that uses it, naming its record.
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

  test('a node changed below the root gives a bundle both verifiers refuse, naming the one record whose proof uses it', async (t) => {
    const { ledger, exportBundle, env, verifierKey } = await checkpointedTrace(t);
    await ledger.pool.query('ALTER TABLE writ.merkle_nodes DISABLE TRIGGER merkle_nodes_no_update');
    await ledger.pool.query(`UPDATE writ.merkle_nodes SET hash = sha256(hash) WHERE ${LEAF_0}`);
    const { out, result } = await exportBundle();
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const checked = await verifyBundle(out, env);
    assert.equal(checked.code, 1, checked.stdout + checked.stderr);
    assert.deepEqual(
      checked.verdict.findings.map((f) => [f.code, f.file, (f as { seq?: number }).seq]),
      [['INCLUSION_PROOF_INVALID', 'proofs.json', 2]],
    );
    const py = await python(out, verifierKey);
    assert.equal(py.code, 1, py.stdout + py.stderr);
    assert.match(py.stdout, /proofs\.json.*seq 2\b/);
  });
});
