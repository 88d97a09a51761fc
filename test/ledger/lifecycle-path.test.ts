import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type pg from 'pg';
import { prepareRecord } from '../../src/ledger/record.js';
import { REPO_ROOT, runCommand, runWrit } from '../support/cli.js';
import { asRole } from '../support/roles.js';
import { keygen } from '../support/signing-key.js';
import { startWrit, updateTier, waitForState } from '../support/writ.js';
import { ASSERTED_IDENTITIES } from '../support/identities.js';

interface LedgerJson {
  ok: boolean;
  chains: Array<{ illegalPaths: Array<{ code: string; operationId: string; seq: number; step: string }> }>;
  findings: Array<{ code: string; chainId?: string; operationId?: string; seq?: number }>;
}

interface BundleJson {
  findings: Array<{ code: string; file: string; seq?: number }>;
}

const policy = {
  id: 'acme-needs-a-manager',
  identity: ASSERTED_IDENTITIES,
  rules: [
    {
      name: 'acme',
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
const SKIPS_APPROVAL = ['planned', 'validated', 'executing', 'executed', 'verifying', 'verified', 'closed'];

/**
 * What a holder of writ_writer can do: append well-formed canonical bytes, here a closing record that
 * says "succeeded".
 */
async function forgeClosing(pool: pg.Pool, operationId: string): Promise<number> {
  const { canonical } = prepareRecord({
    type: 'operation.closed',
    operationId,
    state: 'closed',
    actor: { id: 'writ', kind: 'service' },
    payload: { outcome: 'succeeded', path: SKIPS_APPROVAL },
  });
  const inserted = await asRole(pool, 'writ_writer', (c) =>
    c.query<{ seq: string }>('INSERT INTO writ.records (canonical) VALUES ($1) RETURNING seq', [canonical]),
  );
  return Number(inserted.rows[0]!.seq);
}

describe('when the writer role appends a closing record whose path skips approval', () => {
  test('writ verify exits 1 naming each operation, the forged record and the illegal step, and a bundle of it fails both bundle verifiers', async (t) => {
    const { ledger, writ: client } = await startWrit(t, { policy, approvers, forgesRecords: true });

    // Rejected for real, then given a second, successful closing.
    const { operationId: rejected } = await client.start(updateTier());
    await waitForState(client, rejected, 'awaiting_approval');
    await client.reject(rejected, { approver: 'bob', reason: 'not this quarter' });
    assert.equal((await client.result(rejected)).outcome, 'rejected');
    const secondClosing = await forgeClosing(ledger.pool, rejected);

    // Closed as succeeded while it still waited for approval: the only closing before the real one.
    const { operationId: waiting } = await client.start(updateTier({ intent: 'raise tier again' }));
    await waitForState(client, waiting, 'awaiting_approval');
    const earlyClosing = await forgeClosing(ledger.pool, waiting);
    await client.reject(waiting, { approver: 'bob', reason: 'no' });
    assert.equal((await client.result(waiting)).outcome, 'rejected');

    const dir = mkdtempSync(join(tmpdir(), 'writ-lifecycle-'));
    const { verifierKey, env: signing } = await keygen(dir);
    const env = { DATABASE_URL: ledger.url, ...signing, WRIT_ANCHOR_DIR: join(dir, 'anchors'), WRIT_VERIFIER_KEY: '' };

    const verified = await runWrit(['verify'], { env });
    assert.equal(verified.code, 1, verified.stdout + verified.stderr);
    const checkedLedger = await runWrit(['verify', '--json'], { env });
    assert.equal(checkedLedger.code, 1, checkedLedger.stdout + checkedLedger.stderr);
    const json = JSON.parse(checkedLedger.stdout) as LedgerJson;
    assert.equal(json.ok, false);
    assert.deepEqual(
      json.chains[0]!.illegalPaths.filter((f) => f.seq === secondClosing || f.seq === earlyClosing).map((f) => [
        f.code,
        f.operationId,
        f.seq,
        f.step,
      ]),
      [
        ['ILLEGAL_PATH', rejected, secondClosing, 'closed -> closed'],
        ['ILLEGAL_PATH', waiting, earlyClosing, 'validated -> awaiting_approval'],
      ],
    );
    assert.deepEqual(
      json.findings
        .filter((f) => f.seq === secondClosing || f.seq === earlyClosing)
        .map((f) => [f.code, f.chainId, f.operationId, f.seq]),
      [
        ['ILLEGAL_PATH', 'main', rejected, secondClosing],
        ['ILLEGAL_PATH', 'main', waiting, earlyClosing],
      ],
    );

    for (const [operationId, seq] of [
      [rejected, secondClosing],
      [waiting, earlyClosing],
    ] as const) {
      const bundle = join(dir, operationId);
      const exported = await runWrit(['export', operationId, '--out', bundle], { env });
      assert.equal(exported.code, 0, exported.stdout + exported.stderr);
      const checked = await runWrit(['verify-bundle', bundle, '--verifier-key', verifierKey, '--json'], { env });
      assert.equal(checked.code, 1, checked.stdout + checked.stderr);
      const verdict = JSON.parse(checked.stdout) as BundleJson;
      assert.ok(
        verdict.findings.some((f) => f.code === 'ILLEGAL_PATH' && f.file === 'records.jsonl' && f.seq === seq),
        checked.stdout,
      );
      const py = await runCommand('python3', [
        join(REPO_ROOT, 'test', 'evidence', 'independent_verifier.py'),
        bundle,
        '--verifier-key',
        verifierKey,
      ]);
      assert.equal(py.code, 1, py.stdout + py.stderr);
      assert.match(py.stdout, new RegExp(`records\\.jsonl seq ${seq}: illegal_path: operation ${operationId}`));
    }
  });
});
