/**
 * The worker's evidence configuration: a signing key that is not the one auditors verify with, an
 * anchor directory the worker cannot write, records left unsigned past twice the checkpoint
 * interval; and the same checks ok once each is put right.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkpointFreshnessCheck } from '../../src/doctor/checkpoints.js';
import { signingKeyCheck } from '../../src/doctor/signing.js';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import { runCommand, runWrit } from '../support/cli.js';
import { freshLedger } from '../support/db.js';
import { appendNotes } from '../support/records.js';
import { keygen } from '../support/signing-key.js';
import { CLEARED, doctorCli } from './support.js';

test('a signing key that does not match WRIT_VERIFIER_KEY fails with the key it should be', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'writ-doctor-keys-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const mine = await keygen(join(dir, 'a'));
  const other = await keygen(join(dir, 'b'));
  const matching = await signingKeyCheck({ ...mine.env, WRIT_VERIFIER_KEY: mine.verifierKey });
  assert.equal(matching.status, 'ok', matching.detail);

  const run = await doctorCli({
    ...CLEARED,
    TEMPORAL_ADDRESS: '127.0.0.1:1',
    ...mine.env,
    WRIT_VERIFIER_KEY: other.verifierKey,
  });
  assert.equal(run.code, 1);
  const key = run.checks.get('signing-key')!;
  assert.equal(key.status, 'fail');
  assert.match(key.detail, /signs as .*, but WRIT_VERIFIER_KEY is /);
  assert.ok(key.fix!.includes(`WRIT_VERIFIER_KEY=${mine.verifierKey}`), key.fix);

  const unreadable = await signingKeyCheck({ WRIT_SIGNING_KEY: join(dir, 'missing.key') });
  assert.equal(unreadable.status, 'fail');
  assert.match(unreadable.fix!, /writ keygen --out/);
});

test('an anchor directory the worker cannot write fails, with what fixes it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'writ-doctor-anchors-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const anchors = join(dir, 'anchors');
  mkdirSync(anchors);
  const env = { ...CLEARED, TEMPORAL_ADDRESS: '127.0.0.1:1', WRIT_ANCHOR_DIR: anchors };
  // Root may write any directory whatever its mode, but not a read-only file system: as root, the
  // anchors are a read-only mount (a volume mounted :ro); otherwise a directory without write permission.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const mounted = await runCommand('mount', ['-t', 'tmpfs', '-o', 'ro', 'tmpfs', anchors]);
    assert.equal(mounted.code, 0, `a read-only mount for the test: ${mounted.stderr}`);
  }
  if (!asRoot) chmodSync(anchors, 0o555);
  const unmount = () => (asRoot ? runCommand('umount', [anchors]) : Promise.resolve(undefined));
  t.after(async () => {
    await unmount();
  });
  const run = await doctorCli(env, ['--role', 'worker']);
  assert.equal(run.code, 1);
  const check = run.checks.get('anchor-dir')!;
  assert.equal(check.status, 'fail');
  assert.match(check.detail, /is not writable by/);
  assert.match(check.fix!, asRoot ? new RegExp(`mount ${anchors} read-write`) : new RegExp(`chown \\d+ ${anchors}`));

  await unmount();
  if (!asRoot) chmodSync(anchors, 0o777);
  const writable = await doctorCli(env, ['--role', 'worker']);
  assert.equal(writable.checks.get('anchor-dir')!.status, 'ok', writable.checks.get('anchor-dir')!.detail);
});

test('records unsigned for longer than twice WRIT_CHECKPOINT_EVERY fail; a checkpoint makes it fresh', async (t) => {
  const ledger = await freshLedger(t);
  const dir = mkdtempSync(join(tmpdir(), 'writ-doctor-checkpoint-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.match((await checkpointFreshnessCheck(ledger.pool, '1s')).detail, /the ledger is empty/);
  await appendNotes(new GroupCommitAppender(ledger.pool), 3);
  assert.equal((await checkpointFreshnessCheck(ledger.pool, '1s')).status, 'ok', 'just written: not late yet');
  await new Promise((resolve) => setTimeout(resolve, 2_500));

  const env = { ...CLEARED, TEMPORAL_ADDRESS: '127.0.0.1:1', DATABASE_URL: ledger.url, WRIT_CHECKPOINT_EVERY: '1s' };
  const stale = await doctorCli(env);
  assert.equal(stale.code, 1);
  const check = stale.checks.get('checkpoint-freshness')!;
  assert.equal(check.status, 'fail');
  assert.match(check.detail, /chain main: record 1 is \d+ s old and no checkpoint covers it \(none signed yet\)/);
  assert.match(check.fix!, /writ checkpoint/);

  const key = await keygen(dir);
  const signed = await runWrit(['checkpoint'], { env: { ...env, ...key.env } });
  assert.equal(signed.code, 0, signed.stderr);
  const fresh = await checkpointFreshnessCheck(ledger.pool, '1s');
  assert.equal(fresh.status, 'ok', fresh.detail);
  assert.match(fresh.detail, /latest checkpoint \d+ s old/);

  const bad = await checkpointFreshnessCheck(ledger.pool, 'often');
  assert.equal(bad.status, 'fail');
  assert.match(bad.detail, /WRIT_CHECKPOINT_EVERY=often is not a duration/);
});
