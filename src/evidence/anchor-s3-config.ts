import { S3Client } from '@aws-sdk/client-s3';

/**
 * Where the S3 Object Lock anchor writes, read from the environment like the other anchors.
 * Credentials are not here: the SDK's default chain finds them (AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY, a profile, an instance or task role), so no secret passes through Writ.
 */
export interface S3AnchorConfig {
  /** WRIT_ANCHOR_S3_BUCKET: a bucket created with Object Lock enabled. */
  bucket: string;
  /** WRIT_ANCHOR_S3_PREFIX: put before every key, e.g. `writ/` (default: none). */
  prefix: string;
  /** WRIT_ANCHOR_S3_REGION, else AWS_REGION, else us-east-1. */
  region: string;
  /** WRIT_ANCHOR_S3_ENDPOINT: an S3-compatible store; path-style addressing is used with it. */
  endpoint?: string;
  /** WRIT_ANCHOR_S3_RETENTION_DAYS: how long each anchored checkpoint stays locked (compliance mode). */
  retentionDays: number;
  /** The log's name (WRIT_LOG_ORIGIN): the first part of every key, so two logs can share a bucket. */
  origin: string;
  /** For a caller that runs its own store (the demo); from the environment, the SDK's chain decides. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** Null when WRIT_ANCHOR_S3_BUCKET is unset; throws saying what is wrong with a bad value. */
export function s3AnchorConfigFromEnv(env: NodeJS.ProcessEnv, origin: string): S3AnchorConfig | null {
  const bucket = env.WRIT_ANCHOR_S3_BUCKET?.trim();
  if (!bucket) return null;
  const rawDays = env.WRIT_ANCHOR_S3_RETENTION_DAYS?.trim() ?? '';
  if (!/^[1-9]\d{0,5}$/.test(rawDays))
    throw new Error(
      `WRIT_ANCHOR_S3_RETENTION_DAYS must be a whole number of days from 1 to 999999 when WRIT_ANCHOR_S3_BUCKET is set, got ${JSON.stringify(env.WRIT_ANCHOR_S3_RETENTION_DAYS ?? '')}`,
    );
  const endpoint = env.WRIT_ANCHOR_S3_ENDPOINT?.trim();
  if (endpoint && !/^https?:\/\/[^/]/.test(endpoint))
    throw new Error(`WRIT_ANCHOR_S3_ENDPOINT must be an http(s) URL, got ${JSON.stringify(endpoint)}`);
  return {
    bucket,
    prefix: env.WRIT_ANCHOR_S3_PREFIX ?? '',
    region: env.WRIT_ANCHOR_S3_REGION?.trim() || env.AWS_REGION?.trim() || 'us-east-1',
    ...(endpoint ? { endpoint } : {}),
    retentionDays: Number(rawDays),
    origin,
  };
}

/** `s3:<bucket>/<prefix>`: the anchor's name in findings (without the endpoint, which may change). */
export function s3AnchorName(config: S3AnchorConfig): string {
  return `s3:${config.bucket}/${config.prefix}`;
}

/** Every key of one chain starts with this: `<prefix><origin>/<chain, URL-encoded>/`. */
export function chainKeyPrefix(config: S3AnchorConfig, chainId: string): string {
  return `${config.prefix}${config.origin}/${encodeURIComponent(chainId)}/`;
}

/** The object that holds the checkpoint of `size` records (docs/FORMAT.md, section 8). */
export function checkpointKey(config: S3AnchorConfig, chainId: string, size: number): string {
  return `${chainKeyPrefix(config, chainId)}${String(size).padStart(16, '0')}.checkpoint`;
}

/** The size a checkpoint key names, or null for any other object under the chain's prefix. */
export function sizeOfKey(key: string, chainPrefix: string): number | null {
  const rest = key.slice(chainPrefix.length);
  return key.startsWith(chainPrefix) && /^\d{16}\.checkpoint$/.test(rest) ? Number(rest.slice(0, 16)) : null;
}

export function s3ClientFor(config: S3AnchorConfig): S3Client {
  return new S3Client({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint, forcePathStyle: true } : {}),
    ...(config.credentials ? { credentials: config.credentials } : {}),
    // An unreachable store fails the checkpoint in seconds (it is retried on the next schedule),
    // instead of holding the checkpointer for the SDK's default minutes.
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
  });
}
