/**
 * The S3 Object Lock anchor against a real S3 server that enforces Object Lock (versitygw, posix
 * backend with versioning): checkpoints are written once in compliance mode, the server refuses
 * to delete them, an overwrite by someone holding the bucket's keys is named by `writ verify` as a
 * second version, and a superuser's full rewrite of the ledger is caught from the bucket alone.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectRetentionCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import { runWrit } from '../support/cli.js';
import { freshLedger } from '../support/db.js';
import { bucketName, fileLocalS3, versitygwBinary } from '../support/local-s3.js';
import { appendNotes, rewriteChain, tamper } from '../support/records.js';
import { LOG_ORIGIN, keygen } from '../support/signing-key.js';

type Context = Parameters<typeof freshLedger>[0];

const binary = await versitygwBinary();
const KEY = `anchors/${LOG_ORIGIN}/main/0000000000000005.checkpoint`;
const DAY_MS = 86_400_000;

interface Report {
  chains: Array<{ checkpoints: { latest: { size: number; sources: string[] } | null; lagging: unknown[] } }>;
  findings: Array<{ code: string; size?: number; source?: string; detail: string }>;
}

const skip = binary ? false : 'no versitygw and no Go to build it';
let s3: Awaited<ReturnType<typeof fileLocalS3>>;
before(async () => {
  if (binary) s3 = await fileLocalS3(binary);
});
after(() => s3?.dispose());

/** A ledger of five notes whose only anchor is a fresh Object Lock bucket, checkpointed once. */
async function anchoredOnlyInS3(t: Context) {
  const ledger = await freshLedger(t);
  const bucket = bucketName('anchor');
  await s3.createBucket(bucket);
  const keys = mkdtempSync(join(tmpdir(), 'writ-s3-keys-'));
  t.after(async () => rmSync(keys, { recursive: true, force: true }));
  const { verifierKey, env: signing } = await keygen(keys);
  const env = {
    DATABASE_URL: ledger.url,
    ...signing,
    WRIT_VERIFIER_KEY: verifierKey,
    ...s3.anchorEnv(bucket),
    WRIT_ANCHOR_S3_PREFIX: 'anchors/',
    WRIT_ANCHOR_DIR: '',
    WRIT_ANCHOR_DATABASE_URL: '',
  };
  await appendNotes(new GroupCommitAppender(ledger.pool), 5);
  const checkpoint = await runWrit(['checkpoint'], { env });
  assert.equal(checkpoint.code, 0, checkpoint.stdout + checkpoint.stderr);
  assert.match(checkpoint.stdout, new RegExp(`anchored in s3:${bucket}/anchors/`));
  return { ledger, bucket, env };
}

async function verify(env: NodeJS.ProcessEnv): Promise<{ code: number | null; report: Report; stderr: string }> {
  const result = await runWrit(['verify', '--json'], { env });
  return { code: result.code, report: JSON.parse(result.stdout) as Report, stderr: result.stderr };
}

test(
  'each checkpoint is one object, its note byte for byte, locked in compliance mode for the retention',
  { skip },
  async (t) => {
    const { ledger, bucket, env } = await anchoredOnlyInS3(t);
    const client = s3.client();
    t.after(() => client.destroy());
    const stored = await ledger.pool.query<{ note: string }>('SELECT note FROM writ.checkpoints');
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: KEY }));
    assert.equal(await object.Body!.transformToString('utf8'), stored.rows[0]!.note);
    const retention = await client.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: KEY }));
    assert.equal(retention.Retention?.Mode, 'COMPLIANCE');
    const until = retention.Retention!.RetainUntilDate!.getTime();
    assert.ok(Math.abs(until - (Date.now() + DAY_MS)) < 5 * 60_000, `retained until ${new Date(until).toISOString()}`);

    // Anchoring the same checkpoint again (the next run, no new records) writes nothing.
    assert.equal((await runWrit(['checkpoint'], { env })).code, 0);
    const versions = await client.send(
      new ListObjectVersionsCommand({ Bucket: bucket, Prefix: `anchors/${LOG_ORIGIN}/` }),
    );
    assert.deepEqual(
      (versions.Versions ?? []).map((v) => v.Key),
      [KEY],
    );
    const verified = await verify(env);
    assert.equal(verified.code, 0, verified.stderr);
    assert.deepEqual(verified.report.chains[0]?.checkpoints.latest?.sources, ['ledger', `s3:${bucket}/anchors/`]);
    assert.deepEqual(verified.report.findings, []);
  },
);

test("the server refuses to delete an anchored checkpoint's version inside its retention", { skip }, async (t) => {
  const { bucket, env } = await anchoredOnlyInS3(t);
  const client = s3.client();
  t.after(() => client.destroy());
  const [version] = (
    await client.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: `anchors/${LOG_ORIGIN}/` }))
  ).Versions!;
  await assert.rejects(
    client.send(new DeleteObjectCommand({ Bucket: bucket, Key: KEY, VersionId: version!.VersionId! })),
    (error: Error) => error.name === 'AccessDenied',
  );
  // A delete without a version id only hides the object behind a marker: verify still reads the
  // locked version, and names the marker.
  await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: KEY }));
  const verified = await verify(env);
  assert.equal(verified.code, 1);
  assert.deepEqual(
    verified.report.findings.map((f) => [f.code, f.size]),
    [['ANCHOR_DELETE_MARKER', 5]],
  );
  assert.deepEqual(verified.report.chains[0]?.checkpoints.latest?.sources, ['ledger', `s3:${bucket}/anchors/`]);
});

test('an overwrite of an anchored key is named as a second version, and its forged note fails', { skip }, async (t) => {
  const { ledger, bucket, env } = await anchoredOnlyInS3(t);
  const client = s3.client();
  t.after(() => client.destroy());
  const original = (await ledger.pool.query<{ note: string }>('SELECT note FROM writ.checkpoints')).rows[0]!.note;
  // Someone with the bucket's keys claims the log had 4 records at this size.
  const forged = await client.send(
    new PutObjectCommand({ Bucket: bucket, Key: KEY, Body: original.replace('\n5\n', '\n4\n') }),
  );
  const verified = await verify(env);
  assert.equal(verified.code, 1);
  const codes = verified.report.findings.map((f) => [f.code, f.size, f.source]);
  assert.deepEqual(codes, [
    ['CHECKPOINT_SIGNATURE_INVALID', 5, `s3:${bucket}/anchors/ version ${forged.VersionId}`],
    ['ANCHOR_OVERWRITTEN', 5, `s3:${bucket}/anchors/`],
  ]);
  const overwritten = verified.report.findings.find((f) => f.code === 'ANCHOR_OVERWRITTEN')!;
  assert.match(overwritten.detail, new RegExp(`second version ${forged.VersionId} written \\d{4}-\\d\\d-\\d\\dT`));
  assert.match(overwritten.detail, /differs from the first/);
});

test(
  "a superuser's full rewrite of the ledger, checkpoints included, is caught from the bucket alone",
  { skip },
  async (t) => {
    const { ledger, bucket, env } = await anchoredOnlyInS3(t);
    await rewriteChain(ledger, 2);
    await tamper(ledger.pool, 'DELETE FROM writ.checkpoints');
    const alone = await runWrit(['verify'], { env: { DATABASE_URL: ledger.url, WRIT_ANCHOR_S3_BUCKET: '' } });
    assert.equal(alone.code, 0, 'without the anchor the rewritten chain looks intact');
    const verified = await verify(env);
    assert.equal(verified.code, 1);
    assert.deepEqual(
      verified.report.findings.map((f) => [f.code, f.size, f.source]),
      [
        ['CHAIN_REWRITTEN', 5, `s3:${bucket}/anchors/`],
        ['CHECKPOINT_MISSING', 5, 'ledger'],
      ],
    );
  },
);
