import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { chainRouter, hashedChain } from '../../src/ledger/chain-router.js';
import { runCommand, runWrit } from '../support/cli.js';
import { PYTHON_VERIFIER } from '../support/tsa-bundle.js';
import { ASSERTED_IDENTITIES } from '../support/identities.js';
import { keygen } from '../support/signing-key.js';
import { startWrit, updateTier, waitForState } from '../support/writ.js';

const policy = {
  id: 'chains-test',
  identity: ASSERTED_IDENTITIES,
  rules: [
    {
      name: 'acme-needs-a-manager',
      match: { connector: 'postgres', target: 'public.accounts/42' },
      risk: 'high',
      approvals: { required: 1, fromGroups: ['managers'] },
    },
  ],
};
const approvers = {
  approvers: [
    { id: 'alice', groups: ['sales-ops'] },
    { id: 'bob', groups: ['managers'] },
  ],
};

/** One trace both operations belong to, so its export spans both chains. */
const TRACE = '0af7651916cd43dd8448eb211c80319c';
const traceparent = `00-${TRACE}-b7ad6b7169203331-01`;

/** Operation ids that hash:4 puts on two different chains. */
function idsOnTwoChains(): [string, string] {
  const first = 'chains-op-0';
  for (let i = 1; ; i++) {
    const other = `chains-op-${i}`;
    if (hashedChain(other, 4) !== hashedChain(first, 4)) return [first, other];
  }
}

describe('governed writes spread over chains (WRIT_CHAINS=hash:4)', () => {
  test("each operation's records, its governance and its evidence stay on its own chain; bundles, a trace over both chains and writ verify check out", async (t) => {
    const { ledger, writ } = await startWrit(t, { policy, approvers, chains: chainRouter('hash:4', 'default') });
    const [approved, routine] = idsOnTwoChains();
    await writ.start(updateTier({ operationId: approved, traceparent }));
    await waitForState(writ, approved, 'awaiting_approval');
    assert.equal((await writ.approve(approved, { approver: 'bob', reason: 'renewal confirmed' })).accepted, true);
    const steps = [
      { connector: 'postgres', action: 'update', target: 'public.accounts/43', params: { set: { tier: 'gold' } } },
    ];
    await writ.start(updateTier({ operationId: routine, steps, traceparent }));
    assert.equal((await writ.result(approved)).outcome, 'succeeded');
    assert.equal((await writ.result(routine)).outcome, 'succeeded');

    for (const operationId of [approved, routine]) {
      const chain = hashedChain(operationId, 4);
      const placed = await ledger.pool.query(
        `SELECT DISTINCT chain_id FROM writ.records WHERE operation_id = $1
          UNION SELECT chain_id FROM writ.operations WHERE operation_id = $1`,
        [operationId],
      );
      assert.deepEqual(
        placed.rows.map((r) => r.chain_id),
        [chain],
        `${operationId}: all on ${chain}`,
      );
      const planned = await ledger.pool.query(
        `SELECT record->'payload'->'envelope'->>'chain' AS chain FROM writ.records WHERE operation_id = $1 AND event_type = 'operation.planned'`,
        [operationId],
      );
      assert.equal(planned.rows[0].chain, chain, 'the envelope carries the chain chosen with the first record');
      // The policy the decision was made under is on the record beside the decision, on the same chain.
      const governance = await ledger.pool.query(
        `SELECT count(*)::int AS n FROM writ.records WHERE chain_id = $1 AND event_type = 'governance.policy'`,
        [chain],
      );
      assert.equal(governance.rows[0].n, 1, `chain ${chain} holds the policy revision once`);
    }

    const dir = mkdtempSync(join(tmpdir(), 'writ-chains-'));
    const { verifierKey, env: signing } = await keygen(dir);
    const env = { DATABASE_URL: ledger.url, ...signing, WRIT_ANCHOR_DIR: join(dir, 'anchors'), WRIT_VERIFIER_KEY: '' };
    const happened = await runWrit(['what-happened', approved, '--json'], { env });
    assert.equal(happened.code, 0, happened.stderr);
    assert.equal(JSON.parse(happened.stdout).operations[0].chainId, hashedChain(approved, 4));

    const bundle = join(dir, 'approved');
    const exported = await runWrit(['export', approved, '--out', bundle], { env });
    assert.equal(exported.code, 0, exported.stdout + exported.stderr);
    assert.match(exported.stderr, new RegExp(`signed a new checkpoint of chain ${hashedChain(approved, 4)}`));
    const checked = await runWrit(['verify-bundle', bundle, '--verifier-key', verifierKey], { env });
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);

    // The trace names both operations: a bundle per chain, each with the policy its own chain holds.
    const trace = join(dir, 'trace');
    const tracedExport = await runWrit(['export', TRACE, '--out', trace], { env });
    assert.equal(tracedExport.code, 0, tracedExport.stdout + tracedExport.stderr);
    const chains = [hashedChain(approved, 4), hashedChain(routine, 4)];
    assert.deepEqual(readdirSync(trace).sort(), [...chains].sort());
    const all = await runWrit(['verify-bundle', trace, '--verifier-key', verifierKey, '--json'], { env });
    assert.equal(all.code, 0, all.stdout + all.stderr);
    const bundles = (JSON.parse(all.stdout) as { bundles: Array<{ chain: string; operations: string[] }> }).bundles;
    assert.deepEqual(
      bundles.map((b) => [b.chain, b.operations]).sort(),
      [
        [chains[0], [approved]],
        [chains[1], [routine]],
      ].sort(),
    );
    for (const chain of chains)
      assert.ok(
        readdirSync(join(trace, chain)).some((name) => name.startsWith('governance.policy.')),
        `${chain}'s bundle carries the policy its decision was made under`,
      );
    const py = await runCommand('python3', [PYTHON_VERIFIER, trace, '--verifier-key', verifierKey]);
    assert.equal(py.code, 0, py.stdout + py.stderr);

    const verified = await runWrit(['verify'], { env: { ...env, WRIT_VERIFIER_KEY: verifierKey } });
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  });
});
