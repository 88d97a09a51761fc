/**
 * An S3 anchor that cannot keep its promise stops the start (exit 2, nothing checkpointed): a
 * missing bucket, a bucket without Object Lock, a store that does not answer, a bad retention.
 * A store that goes away while the worker runs fails that checkpoint after the other anchors took
 * it; `writ verify` names the lagging anchor until the next run anchors the head there too.
 * `writ doctor` says the same as the start-up check.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startLocalS3 } from '../../src/devserver/versitygw-server.js';
import { writeCheckpoint } from '../../src/evidence/checkpointer.js';
import { evidenceConfigFromEnv } from '../../src/evidence/config.js';
import { loadSigner } from '../../src/evidence/keys.js';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import { freePort } from '../../src/net/ports.js';
import { runWrit } from '../support/cli.js';
import { freshLedger } from '../support/db.js';
import { bucketName, fileLocalS3, versitygwBinary } from '../support/local-s3.js';
import { appendNotes } from '../support/records.js';
import { KEY_NAME, LOG_ORIGIN, keygen } from '../support/signing-key.js';
import { CLEARED, doctorCli } from '../doctor/support.js';

type Context = Parameters<typeof freshLedger>[0];

const binary = await versitygwBinary();

const skip = binary ? false : 'no versitygw and no Go to build it';
let s3: Awaited<ReturnType<typeof fileLocalS3>>;
before(async () => {
  if (binary) s3 = await fileLocalS3(binary);
});
after(() => s3?.dispose());

async function ledgerWithKey(t: Context) {
  const ledger = await freshLedger(t);
  const dir = mkdtempSync(join(tmpdir(), 'writ-s3-start-'));
  t.after(async () => rmSync(dir, { recursive: true, force: true }));
  const { verifierKey, env: signing } = await keygen(dir);
  await appendNotes(new GroupCommitAppender(ledger.pool), 3);
  const env = { DATABASE_URL: ledger.url, ...signing, WRIT_VERIFIER_KEY: verifierKey, WRIT_ANCHOR_DIR: '' };
  return { ledger, dir, env };
}

async function checkpointsStored(ledger: Awaited<ReturnType<typeof freshLedger>>): Promise<number> {
  return (await ledger.pool.query('SELECT count(*)::int AS n FROM writ.checkpoints')).rows[0].n as number;
}

test(
  'a missing bucket, a bucket without Object Lock, an unreachable store: exit 2 and nothing stored',
  { skip },
  async (t) => {
    const { ledger, env } = await ledgerWithKey(t);
    const unlocked = bucketName('unlocked');
    await s3.createBucket(unlocked, { objectLock: false });
    const closed = `http://127.0.0.1:${await freePort()}`;
    const cases: Array<[NodeJS.ProcessEnv, RegExp]> = [
      [s3.anchorEnv(bucketName('missing')), /bucket writ-missing-\S+ at http:\/\/127\.0\.0\.1:\d+ does not exist/],
      [s3.anchorEnv(unlocked), /has no Object Lock: anchored checkpoints could be deleted or overwritten/],
      [{ ...s3.anchorEnv(unlocked), WRIT_ANCHOR_S3_ENDPOINT: closed }, /cannot reach bucket/],
      [
        { ...s3.anchorEnv(unlocked), WRIT_ANCHOR_S3_RETENTION_DAYS: 'forever' },
        /WRIT_ANCHOR_S3_RETENTION_DAYS must be/,
      ],
    ];
    for (const [anchor, message] of cases) {
      const result = await runWrit(['checkpoint'], { env: { ...env, ...anchor } });
      assert.equal(result.code, 2, result.stdout + result.stderr);
      assert.match(result.stderr, message);
    }
    assert.equal(await checkpointsStored(ledger), 0, 'a refused start stores no checkpoint');

    // The worker refuses to start the same way, before it connects to Temporal.
    const worker = await runWrit(['worker'], {
      env: { ...env, ...s3.anchorEnv(unlocked), TEMPORAL_ADDRESS: '127.0.0.1:1' },
    });
    assert.equal(worker.code, 2, worker.stdout + worker.stderr);
    assert.match(
      worker.stderr,
      /anchor s3:writ-unlocked-\S+ is unusable: .* has no Object Lock[\s\S]*fix: .*--object-lock-enabled-for-bucket/,
    );
  },
);

test(
  'a store that goes away mid-run: the other anchors take the checkpoint, verify names the lagging one, the next run catches up',
  { skip },
  async (t) => {
    const { ledger, dir, env: base } = await ledgerWithKey(t);
    const storeDir = mkdtempSync(join(tmpdir(), 'writ-s3-flaky-'));
    let flaky = await startLocalS3(binary!, storeDir);
    t.after(async () => {
      await flaky.stop();
      rmSync(storeDir, { recursive: true, force: true });
    });
    const bucket = bucketName('flaky');
    await flaky.createBucket(bucket);
    const env = { ...base, WRIT_ANCHOR_DIR: join(dir, 'anchors'), ...flaky.anchorEnv(bucket) };
    assert.equal((await runWrit(['checkpoint'], { env })).code, 0);

    await appendNotes(new GroupCommitAppender(ledger.pool), 2);
    await flaky.stop();
    // The worker's scheduled checkpoint, after its start-up check passed; the SDK finds the
    // credentials in the process environment, as in the worker's.
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: flaky.accessKey, AWS_SECRET_ACCESS_KEY: flaky.secretKey });
    const evidence = evidenceConfigFromEnv(env);
    await assert.rejects(
      writeCheckpoint(ledger.pool, 'main', {
        signer: await loadSigner(env.WRIT_SIGNING_KEY, KEY_NAME),
        origin: LOG_ORIGIN,
        anchors: evidence.anchors,
      }),
      new RegExp(`checkpoint main@5 stored but not anchored in: s3:${bucket}/: cannot reach bucket ${bucket}`),
    );
    for (const sink of evidence.anchors) await sink.close?.();
    assert.deepEqual(readdirSync(join(dir, 'anchors', 'main')), [
      '0000000000000003.checkpoint',
      '0000000000000005.checkpoint',
    ]);

    flaky = await startLocalS3(binary!, storeDir, flaky);
    const lagging = await runWrit(['verify', '--json'], { env });
    assert.equal(lagging.code, 0, lagging.stderr);
    assert.deepEqual(JSON.parse(lagging.stdout).chains[0].checkpoints.lagging, [
      { anchor: `s3:${bucket}/`, newest: 3, ledgerNewest: 5, checkpointsBehind: 1 },
    ]);
    const text = await runWrit(['verify'], { env });
    assert.match(
      text.stdout,
      new RegExp(`warning: anchor s3:${bucket}/ lags: its newest checkpoint is 3, the ledger's is 5`),
    );

    assert.equal((await runWrit(['checkpoint'], { env })).code, 0);
    const caughtUp = await runWrit(['verify', '--json'], { env });
    assert.equal(caughtUp.code, 0, caughtUp.stderr);
    assert.deepEqual(JSON.parse(caughtUp.stdout).chains[0].checkpoints.lagging, []);
  },
);

test(
  'writ doctor runs the same proof: ok on an Object Lock bucket, a failure with the fix otherwise',
  { skip },
  async () => {
    const locked = bucketName('doctor');
    await s3.createBucket(locked);
    const unlocked = bucketName('doctor-unlocked');
    await s3.createBucket(unlocked, { objectLock: false });
    const env = { ...CLEARED, TEMPORAL_ADDRESS: '127.0.0.1:1', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' };

    const good = (await doctorCli({ ...env, ...s3.anchorEnv(locked) })).checks.get('anchor-s3')!;
    assert.equal(good.status, 'ok', good.detail);
    assert.match(
      good.detail,
      /has Object Lock; a probe write was locked in compliance mode until .*and its delete refused/,
    );

    const bad = (await doctorCli({ ...env, ...s3.anchorEnv(unlocked) })).checks.get('anchor-s3')!;
    assert.equal(bad.status, 'fail');
    assert.match(bad.detail, /has no Object Lock/);
    assert.match(bad.fix!, /--object-lock-enabled-for-bucket/);

    const missing = (await doctorCli({ ...env, ...s3.anchorEnv(bucketName('nowhere')) })).checks.get('anchor-s3')!;
    assert.equal(missing.status, 'fail');
    assert.match(missing.detail, /does not exist/);

    const off = (await doctorCli(env)).checks.get('anchor-s3')!;
    assert.equal(off.status, 'skip');
  },
);
