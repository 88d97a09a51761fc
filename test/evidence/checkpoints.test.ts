import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import { runWrit } from '../support/cli.js';
import { keygen } from '../support/signing-key.js';
import { freshLedger } from '../support/db.js';
import { appendNotes, note, rewriteChain, tamper } from '../support/records.js';

type Context = Parameters<typeof freshLedger>[0];

/** A ledger with a signing key and two anchors outside it: a directory and a second database. */
async function anchoredLedger(t: Context) {
  const ledger = await freshLedger(t);
  const anchorDb = await freshLedger(t);
  const dir = mkdtempSync(join(tmpdir(), 'writ-evidence-'));
  const { verifierKey, env: signing } = await keygen(dir);
  const env = {
    DATABASE_URL: ledger.url,
    ...signing,
    WRIT_VERIFIER_KEY: verifierKey,
    WRIT_ANCHOR_DIR: join(dir, 'anchors'),
    WRIT_ANCHOR_DATABASE_URL: anchorDb.url,
  };
  const appender = new GroupCommitAppender(ledger.pool);
  return { ledger, anchorDb, dir, env, appender, verifierKey };
}

async function checkpoint(env: NodeJS.ProcessEnv) {
  const result = await runWrit(['checkpoint'], { env });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  return result.stdout;
}

interface LedgerJson {
  chains: Array<{
    chain: string;
    ok: boolean;
    records: number;
    checkpoints: { checked: number; signaturesChecked: boolean; latest: { size: number; sources: string[] } | null };
  }>;
  findings: Array<{ code: string; size?: number; source?: string }>;
}

/** `writ verify --json`: its exit code and report. */
async function verify(
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string; report: LedgerJson }> {
  const result = await runWrit(['verify', '--json'], { env });
  return { ...result, report: JSON.parse(result.stdout) as LedgerJson };
}

/** `dir:/tmp/...` and `postgres:host/db` name a temporary place; the kind of anchor is what a test can expect. */
function sourceKind(source: string | undefined): string {
  return source?.split(':')[0] ?? '';
}

function checkpointFindings(report: LedgerJson): Array<[string, number | undefined, string]> {
  return report.findings.map((f) => [f.code, f.size, sourceKind(f.source)]);
}

describe('signed checkpoints anchored outside the ledger', () => {
  test('writ checkpoint signs the Merkle root in C2SP format and anchors it; writ verify checks every copy', async (t) => {
    const { ledger, anchorDb, dir, env, appender, verifierKey } = await anchoredLedger(t);
    assert.match(verifierKey, /^acme-writ\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*$/);
    await appendNotes(appender, 5);
    const first = await checkpoint(env);
    assert.match(first, /chain main: checkpoint at 5 records/);
    assert.match(first, /acme\.example\/writ\/main\n\s+5\n/);
    assert.match(first, /\u2014 acme-writ /);
    await appender.appendAll([note(6), note(7), note(8)]);
    await checkpoint(env);

    assert.deepEqual(readdirSync(join(dir, 'anchors', 'main')).sort(), [
      '0000000000000005.checkpoint',
      '0000000000000008.checkpoint',
    ]);
    assert.equal((await anchorDb.pool.query('SELECT count(*)::int AS n FROM writ_anchor.checkpoints')).rows[0].n, 2);
    assert.equal((await ledger.pool.query('SELECT count(*)::int AS n FROM writ.checkpoints')).rows[0].n, 2);

    const verified = await verify(env);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    const [chain] = verified.report.chains;
    assert.deepEqual([chain?.chain, chain?.ok, chain?.records], ['main', true, 8]);
    assert.deepEqual(
      [chain?.checkpoints.checked, chain?.checkpoints.signaturesChecked, chain?.checkpoints.latest?.size],
      [6, true, 8],
    );
    assert.deepEqual(chain?.checkpoints.latest?.sources.map(sourceKind), ['ledger', 'dir', 'postgres']);
    assert.deepEqual(verified.report.findings, []);
  });

  test('records cut off the end of the chain are detected from the checkpoint', async (t) => {
    const { ledger, env, appender } = await anchoredLedger(t);
    await appendNotes(appender, 10);
    await checkpoint(env);
    await tamper(ledger.pool, 'DELETE FROM writ.records WHERE seq > 7');
    const result = await verify(env);
    assert.equal(result.code, 1);
    assert.equal(result.report.chains[0]?.records, 7);
    assert.deepEqual(checkpointFindings(result.report), [
      ['RECORDS_TRUNCATED', 10, 'ledger'],
      ['RECORDS_TRUNCATED', 10, 'dir'],
      ['RECORDS_TRUNCATED', 10, 'postgres'],
    ]);
  });

  test("a superuser's full rewrite of the chain, checkpoints included, is caught by the anchors", async (t) => {
    const { ledger, env, appender } = await anchoredLedger(t);
    await appendNotes(appender, 6);
    await checkpoint(env);
    await rewriteChain(ledger, 2);
    await tamper(ledger.pool, 'DELETE FROM writ.checkpoints');

    const alone = await runWrit(['verify'], { env: { DATABASE_URL: ledger.url } });
    assert.equal(alone.code, 0, 'without checkpoints the rewritten chain looks intact: that is why anchors exist');

    const result = await verify(env);
    assert.equal(result.code, 1);
    assert.deepEqual(checkpointFindings(result.report), [
      ['CHAIN_REWRITTEN', 6, 'dir'],
      ['CHAIN_REWRITTEN', 6, 'postgres'],
      ['CHECKPOINT_MISSING', 6, 'ledger'],
    ]);
  });

  test('a checkpoint whose text or signature was changed is refused', async (t) => {
    const { env, appender, dir } = await anchoredLedger(t);
    await appendNotes(appender, 3);
    await checkpoint(env);
    const path = join(dir, 'anchors', 'main', '0000000000000003.checkpoint');
    chmodSync(path, 0o644);
    writeFileSync(path, readFileSync(path, 'utf8').replace('\n3\n', '\n2\n'));
    const result = await verify(env);
    assert.equal(result.code, 1);
    assert.deepEqual(checkpointFindings(result.report), [['CHECKPOINT_SIGNATURE_INVALID', 3, 'dir']]);
  });

  test('checkpoint refuses to run without a signing key, saying how to make one', async (t) => {
    const { env } = await anchoredLedger(t);
    const result = await runWrit(['checkpoint'], { env: { ...env, WRIT_SIGNING_KEY: '' } });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /writ keygen --out/);
  });
});
