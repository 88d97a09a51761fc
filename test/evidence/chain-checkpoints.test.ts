import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { BatchedCheckpointer } from '../../src/evidence/batched-checkpointer.js';
import { listCheckpoints } from '../../src/evidence/store.js';
import { loadSigner } from '../../src/evidence/keys.js';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import { parseVerifierKey } from '../../src/verify/note.js';
import { verifyCheckpoint } from '../../src/verify/checkpoint.js';
import { runWrit } from '../support/cli.js';
import type { TestLedger } from '../support/db.js';
import { freshLedger } from '../support/db.js';
import { note, tamper } from '../support/records.js';
import { KEY_NAME, LOG_ORIGIN, keygen } from '../support/signing-key.js';

type Context = Parameters<typeof freshLedger>[0];

const CHAINS = ['op-0', 'op-1', 'op-2'];

interface VerifyJson {
  ok: boolean;
  chains: Array<{
    chain: string;
    ok: boolean;
    records: number;
    checkpoints: { checked: number; signaturesChecked: boolean; latest: { size: number } | null; damage: unknown[] };
  }>;
  findings: Array<{ code: string; chainId?: string }>;
}

async function checkpointsPerChain(t: Context): Promise<void> {
  const ledger = await freshLedger(t);
  const appender = new GroupCommitAppender(ledger.pool);
  // Chains of different lengths, so a checkpoint of one could not pass for another's.
  for (const [index, chain] of CHAINS.entries())
    await appender.appendAll(
      Array.from({ length: index + 2 }, (_, i) => note(i, { chain, operationId: `${chain}-operation` })),
    );
  const key = await keygen(mkdtempSync(join(tmpdir(), 'writ-chains-')));
  const env = { DATABASE_URL: ledger.url, ...key.env };

  const signed = await runWrit(['checkpoint'], { env });
  assert.equal(signed.code, 0, signed.stderr);
  for (const [index, chain] of CHAINS.entries())
    assert.match(signed.stdout, new RegExp(`chain ${chain}: checkpoint at ${index + 2} records`));

  const verifier = parseVerifierKey(key.verifierKey);
  for (const [index, chain] of CHAINS.entries()) {
    const stored = await listCheckpoints(ledger.pool, chain);
    assert.equal(stored.length, 1, `chain ${chain} has its own checkpoint`);
    const verdict = verifyCheckpoint(stored[0]!.note, verifier, { origin: `${LOG_ORIGIN}/${chain}` });
    assert.ok(verdict.ok, `chain ${chain}: ${JSON.stringify(verdict)}`);
    assert.equal(verdict.ok && verdict.checkpoint.size, index + 2);
  }

  // The checkpoint workflow's activity (checkpointNow) signs every chain too, after more appends.
  await appender.append(note(99, { chain: 'op-1', operationId: 'op-1-operation' }));
  const scheduled = new BatchedCheckpointer(ledger.pool, {
    signer: await loadSigner(key.env.WRIT_SIGNING_KEY, KEY_NAME),
    origin: LOG_ORIGIN,
    anchors: [],
  });
  const written = await scheduled.now();
  await scheduled.close();
  assert.deepEqual(written.map((w) => [w.chainId, w.size]).sort(), [
    ['op-0', 2],
    ['op-1', 4],
    ['op-2', 4],
  ]);

  await verifyEachChain(ledger, { ...env, WRIT_VERIFIER_KEY: key.verifierKey });
}

/** writ verify checks each chain's records against its own checkpoints, and names only the chain that was damaged. */
async function verifyEachChain(ledger: TestLedger, env: NodeJS.ProcessEnv): Promise<void> {
  const verified = await runWrit(['verify', '--json'], { env });
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  const report = JSON.parse(verified.stdout) as VerifyJson;
  assert.deepEqual(
    report.chains.map((c) => [c.chain, c.ok, c.records, c.checkpoints.checked, c.checkpoints.signaturesChecked]),
    [
      // A chain that did not grow keeps its one checkpoint; op-1 grew and got a second.
      ['op-0', true, 2, 1, true],
      ['op-1', true, 4, 2, true],
      ['op-2', true, 4, 1, true],
    ],
  );

  // A superuser rewrites one record of one chain: verify names that chain and only it.
  await tamper(
    ledger.pool,
    `UPDATE writ.records SET canonical = convert_to(replace(convert_from(canonical, 'UTF8'), '"note 1"', '"note X"'), 'UTF8') WHERE chain_id = 'op-2' AND seq = 2`,
  );
  const damaged = await runWrit(['verify', '--json'], { env });
  assert.equal(damaged.code, 1, damaged.stdout + damaged.stderr);
  const after = JSON.parse(damaged.stdout) as VerifyJson;
  assert.deepEqual(
    after.chains.map((c) => [c.chain, c.ok]),
    [
      ['op-0', true],
      ['op-1', true],
      ['op-2', false],
    ],
  );
  assert.deepEqual([...new Set(after.findings.map((f) => f.chainId))], ['op-2']);
}

describe('one signed checkpoint per chain', () => {
  test('with three chains, writ checkpoint and the scheduled checkpoint sign each chain under its own origin, and writ verify checks each', (t) =>
    checkpointsPerChain(t));
});
