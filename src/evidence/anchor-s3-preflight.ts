import { randomBytes } from 'node:crypto';
import {
  DeleteObjectCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { S3AnchorConfig } from './anchor-s3-config.js';
import { explainS3Error, s3ErrorName } from './anchor-s3-errors.js';

/** Why the S3 anchor cannot keep its promise, and what would fix it (`writ doctor` prints both). */
export class S3AnchorUnusable extends Error {
  override readonly name = 'S3AnchorUnusable';
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}

/** Long enough to outlast any clock skew between this host and the store, short enough to be litter. */
const PROBE_RETENTION_MS = 3_600_000;

/**
 * Proves, before anything is anchored, that the bucket will keep what it is given: Object Lock is
 * enabled on it, and a probe object written the way checkpoints are comes back with compliance
 * retention, and a delete of that very version is refused. A store that accepted the headers but
 * ignored them would otherwise make every anchor deletable. Returns what it saw.
 */
export async function preflightS3Anchor(client: S3Client, config: S3AnchorConfig): Promise<string> {
  const bucket = `s3://${config.bucket}${config.endpoint ? ` at ${config.endpoint}` : ''}`;
  const lock = await client.send(new GetObjectLockConfigurationCommand({ Bucket: config.bucket })).catch((error) => {
    if (s3ErrorName(error) === 'ObjectLockConfigurationNotFoundError') return null;
    throw new S3AnchorUnusable(explainS3Error(error, config), fixFor(config));
  });
  if (lock?.ObjectLockConfiguration?.ObjectLockEnabled !== 'Enabled')
    throw new S3AnchorUnusable(
      `${bucket} has no Object Lock: anchored checkpoints could be deleted or overwritten`,
      `Object Lock is set when a bucket is created: aws s3api create-bucket --bucket <name> --object-lock-enabled-for-bucket, then point WRIT_ANCHOR_S3_BUCKET at it`,
    );
  const until = new Date(Date.now() + PROBE_RETENTION_MS);
  // No colons in the key: some S3-compatible stores map keys to file names.
  const stamp = new Date().toISOString().replace(/[-:.]/g, '');
  const key = `${config.prefix}.writ-probe/${stamp}-${randomBytes(4).toString('hex')}`;
  const written = await client
    .send(
      new PutObjectCommand({
        Bucket: config.bucket,
        Key: key,
        Body: 'writ anchor probe: Object Lock must hold this object\n',
        ObjectLockMode: 'COMPLIANCE',
        ObjectLockRetainUntilDate: until,
        ChecksumAlgorithm: 'SHA256',
      }),
    )
    .catch((error) => {
      throw new S3AnchorUnusable(`probe write to ${bucket}: ${explainS3Error(error, config)}`, fixFor(config));
    });
  const version = written.VersionId ? { VersionId: written.VersionId } : {};
  const retention = await client
    .send(new GetObjectRetentionCommand({ Bucket: config.bucket, Key: key, ...version }))
    .catch(() => null);
  const lockedUntil = retention?.Retention?.RetainUntilDate;
  if (retention?.Retention?.Mode !== 'COMPLIANCE' || !lockedUntil || lockedUntil.getTime() < until.getTime() - 1_000)
    throw new S3AnchorUnusable(
      `a probe write to ${bucket} (${key}) came back without compliance retention: the store does not apply Object Lock`,
      'use a store that enforces S3 Object Lock (AWS S3, or a compatible one with Object Lock and versioning on)',
    );
  const deleted = await client
    .send(new DeleteObjectCommand({ Bucket: config.bucket, Key: key, ...version }))
    .then(() => true)
    .catch(() => false);
  if (deleted)
    throw new S3AnchorUnusable(
      `${bucket} let a version under compliance retention be deleted (${key}): it does not enforce Object Lock`,
      'use a store that enforces S3 Object Lock (AWS S3, or a compatible one with Object Lock and versioning on)',
    );
  return `${bucket} has Object Lock; a probe write was locked in compliance mode until ${lockedUntil.toISOString()} and its delete refused; checkpoints are kept ${config.retentionDays} day(s)`;
}

function fixFor(config: S3AnchorConfig): string {
  return `check WRIT_ANCHOR_S3_BUCKET (${config.bucket}), WRIT_ANCHOR_S3_REGION/WRIT_ANCHOR_S3_ENDPOINT and the AWS credentials this process finds`;
}
