import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { join } from 'node:path';
import { CreateBucketCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { acceptsConnections, freePort } from '../net/ports.js';

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
  const child = spawn(
    binary,
    ['--port', `127.0.0.1:${chosen}`, 'posix', '--versioning-dir', join(dir, 'versions'), join(dir, 'data')],
    {
      env: { ...process.env, ROOT_ACCESS_KEY: accessKey, ROOT_SECRET_KEY: secretKey },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const { exited } = await waitUntilListening(child, chosen);
  const endpoint = `http://127.0.0.1:${chosen}`;
  const client = () =>
    new S3Client({
      region: 'us-east-1',
      endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: accessKey, secretAccessKey: secretKey },
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
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Resolves once the server accepts connections, with a promise that settles when the server exits. */
async function waitUntilListening(child: ChildProcessByStdio<null, null, Readable>, port: number) {
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 15_000;
  while (!(await acceptsConnections(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`versitygw did not start on 127.0.0.1:${port}: ${stderr.trim() || 'no output'}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // Wrapped: an async function returning the promise itself would wait for the exit.
  return { exited };
}

async function createBucket(s3: S3Client, bucket: string, objectLock: boolean): Promise<void> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: objectLock }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  } finally {
    s3.destroy();
  }
}
