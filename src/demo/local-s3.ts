import { join } from 'node:path';
import type { Cleanup } from '../devstack/cleanup.js';
import { findVersitygw } from '../devserver/versitygw.js';
import { startLocalS3 } from '../devserver/versitygw-server.js';
import { s3Sink } from '../evidence/anchor-s3.js';
import type { AnchorSink } from '../evidence/anchors.js';

const BUCKET = 'writ-demo-anchors';

/**
 * The S3 Object Lock anchor on a local versitygw, when one is already on this machine (the demo
 * never spends minutes building it): the last chapter then shows checkpoints held in a bucket
 * that refuses to delete them. Null, and the demo goes on with its directory, otherwise.
 */
export async function demoS3Anchor(
  workDir: string,
  origin: string,
  cleanup: Cleanup,
  note: (line: string) => void,
): Promise<{ sink: AnchorSink; endpoint: string } | null> {
  let binary: string | null;
  try {
    binary = findVersitygw();
  } catch (error) {
    note(`no S3 anchor: ${(error as Error).message}`);
    return null;
  }
  if (!binary) return null;
  try {
    const s3 = await startLocalS3(binary, join(workDir, 's3'));
    cleanup.add('the local S3 server (versitygw)', () => s3.stop());
    await s3.createBucket(BUCKET);
    const sink = s3Sink({
      bucket: BUCKET,
      prefix: '',
      region: 'us-east-1',
      endpoint: s3.endpoint,
      retentionDays: 1,
      origin,
      credentials: { accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey },
    });
    cleanup.add('the S3 anchor client', async () => sink.close?.());
    return { sink, endpoint: s3.endpoint };
  } catch (error) {
    note(`no S3 anchor: versitygw (${binary}) did not start: ${(error as Error).message}`);
    return null;
  }
}
