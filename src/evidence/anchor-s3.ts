import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { AnchorSink } from './anchors.js';
import { checkpointKey, s3AnchorName, s3ClientFor } from './anchor-s3-config.js';
import type { S3AnchorConfig } from './anchor-s3-config.js';
import { explainS3Error, isAlreadyThere, isMissingKey } from './anchor-s3-errors.js';
import { preflightS3Anchor } from './anchor-s3-preflight.js';
import { readChain } from './anchor-s3-read.js';
import type { ChainRead } from './anchor-s3-read.js';

const DAY_MS = 86_400_000;

/**
 * An S3 bucket with Object Lock: each checkpoint is one object, written once in compliance mode
 * with a retention no account (not even the bucket owner's root) can shorten or lift. Whoever can
 * rewrite the ledger cannot rewrite or delete these until the retention ends; an overwrite only
 * adds a version, which `writ verify` reads and names.
 */
export function s3Sink(config: S3AnchorConfig): AnchorSink {
  const client = s3ClientFor(config);
  const name = s3AnchorName(config);
  // `writ verify` asks for a chain's checkpoints, then its history: one listing serves both.
  const reads = new Map<string, ChainRead>();
  const read = async (chainId: string) => {
    try {
      return await readChain(client, config, name, chainId);
    } catch (error) {
      throw new Error(`anchor ${name}: ${explainS3Error(error, config)}`, { cause: error });
    }
  };
  return {
    name,
    async put(chainId, size, note) {
      try {
        await putOnce(client, config, checkpointKey(config, chainId, size), note, size);
      } catch (error) {
        if ((error as Error).message.startsWith('anchor conflict')) throw error;
        throw new Error(explainS3Error(error, config), { cause: error });
      }
    },
    async list(chainId) {
      const chain = await read(chainId);
      reads.set(chainId, chain);
      return chain.checkpoints;
    },
    async history(chainId) {
      const chain = reads.get(chainId) ?? (await read(chainId));
      reads.delete(chainId);
      return chain.events;
    },
    preflight: () => preflightS3Anchor(client, config),
    close: async () => client.destroy(),
  };
}

/**
 * Writes the note under its key unless the key already holds it. `If-None-Match: *` makes two
 * checkpointers racing for one key unable both to write: the loser reads the winner's note.
 */
async function putOnce(client: S3Client, config: S3AnchorConfig, key: string, note: string, size: number) {
  let existing = await readLatest(client, config.bucket, key);
  if (existing === null) {
    try {
      await client.send(
        new PutObjectCommand({
          Bucket: config.bucket,
          Key: key,
          Body: note,
          ContentType: 'text/plain; charset=utf-8',
          IfNoneMatch: '*',
          ObjectLockMode: 'COMPLIANCE',
          ObjectLockRetainUntilDate: new Date(Date.now() + config.retentionDays * DAY_MS),
          // Object Lock writes must carry a checksum of the body.
          ChecksumAlgorithm: 'SHA256',
        }),
      );
      return;
    } catch (error) {
      if (!isAlreadyThere(error)) throw error;
    }
    existing = await readLatest(client, config.bucket, key);
  }
  if (existing !== note)
    throw new Error(
      `anchor conflict in s3://${config.bucket}/${key}: a different checkpoint for size ${size} is already anchored`,
    );
}

async function readLatest(client: S3Client, bucket: string, key: string): Promise<string | null> {
  try {
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return (await got.Body?.transformToString('utf8')) ?? '';
  } catch (error) {
    if (isMissingKey(error)) return null;
    throw error;
  }
}
