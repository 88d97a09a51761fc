import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, ListBucketsCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { acceptsConnections, freePort } from '../net/ports.js';
import { startServerProcess } from './server-process.js';

export interface LocalS3 {
  endpoint: string;
  port: number;
  accessKey: string;
  secretKey: string;
  /** The environment a Writ process needs to anchor in `bucket` here (credentials by the SDK's chain). */
  anchorEnv(bucket: string, retentionDays?: number): Record<string, string>;
  client(): S3Client;
  /** Creates a bucket, with Object Lock (and so versioning) unless told otherwise. */
  createBucket(bucket: string, options?: { objectLock?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A versitygw on 127.0.0.1 over `dir` (posix backend, versioning on, so Object Lock works as on
 * AWS): for tests and the demo. Its root credentials are random unless given (a restart over the
 * same directory passes the same ones).
 */
export async function startLocalS3(
  binary: string,
  dir: string,
  options: { port?: number; accessKey?: string; secretKey?: string } = {},
): Promise<LocalS3> {
  const chosen = options.port ?? (await freePort());
  const accessKey = options.accessKey ?? `writ${randomBytes(6).toString('hex')}`;
  const secretKey = options.secretKey ?? randomBytes(24).toString('hex');
  mkdirSync(join(dir, 'data'), { recursive: true });
  mkdirSync(join(dir, 'versions'), { recursive: true });
  const endpoint = `http://127.0.0.1:${chosen}`;
  const client = () =>
    new S3Client({
      region: 'us-east-1',
      endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: accessKey, secretAccessKey: secretKey },
    });
  const server = await startServerProcess({
    name: 'versitygw',
    command: binary,
    args: ['--port', `127.0.0.1:${chosen}`, 'posix', '--versioning-dir', join(dir, 'versions'), join(dir, 'data')],
    env: { ...process.env, ROOT_ACCESS_KEY: accessKey, ROOT_SECRET_KEY: secretKey },
    address: `127.0.0.1:${chosen}`,
    answers: () => answersWith(chosen, client),
    startupTimeoutMs: 15_000,
    stdout: 'ignore',
    echoStderr: false,
    // A restart over the same directory (the demo's) must find what the last one wrote.
    stopGraceMs: 5_000,
  });
  return {
    endpoint,
    port: chosen,
    accessKey,
    secretKey,
    client,
    anchorEnv: (bucket, retentionDays = 1) => ({
      WRIT_ANCHOR_S3_BUCKET: bucket,
      WRIT_ANCHOR_S3_ENDPOINT: endpoint,
      WRIT_ANCHOR_S3_REGION: 'us-east-1',
      WRIT_ANCHOR_S3_RETENTION_DAYS: String(retentionDays),
      AWS_ACCESS_KEY_ID: accessKey,
      AWS_SECRET_ACCESS_KEY: secretKey,
    }),
    createBucket: (bucket, options = {}) => createBucket(client(), bucket, options.objectLock ?? true),
    stop: server.stop,
  };
}

/**
 * Ready when a request signed with this server's own random credentials succeeds. A port that
 * merely accepts connections may be another process's (a restart asks for the port it had, which
 * may have been taken meanwhile), and a server found there must not pass for this one while this
 * one failed to bind.
 */
async function answersWith(port: number, client: () => S3Client): Promise<boolean> {
  if (!(await acceptsConnections(port))) return false;
  const s3 = client();
  try {
    await s3.send(new ListBucketsCommand({}), { abortSignal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  } finally {
    s3.destroy();
  }
}

async function createBucket(s3: S3Client, bucket: string, objectLock: boolean): Promise<void> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: objectLock }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  } finally {
    s3.destroy();
  }
}
