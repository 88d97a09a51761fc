import { s3AnchorConfigFromEnv, s3ClientFor } from '../evidence/anchor-s3-config.js';
import { preflightS3Anchor } from '../evidence/anchor-s3-preflight.js';
import { DEFAULT_ORIGIN } from '../evidence/config.js';
import type { CheckResult } from './check.js';
import { fail, messageOf, ok, skip } from './check.js';

/**
 * WRIT_ANCHOR_S3_BUCKET: the same proof the worker runs before it starts (Object Lock on the
 * bucket, a probe write locked in compliance mode, its delete refused), so a doctor that says ok
 * means the worker will start and its anchors will hold.
 */
export async function anchorS3Check(env: NodeJS.ProcessEnv): Promise<CheckResult> {
  const name = 'anchor-s3';
  let config;
  try {
    config = s3AnchorConfigFromEnv(env, env.WRIT_LOG_ORIGIN || DEFAULT_ORIGIN);
  } catch (error) {
    return fail(name, messageOf(error), 'set WRIT_ANCHOR_S3_RETENTION_DAYS to a whole number of days, e.g. 2555');
  }
  if (!config) return skip(name, 'WRIT_ANCHOR_S3_BUCKET is not set');
  const client = s3ClientFor(config);
  try {
    return ok(name, await preflightS3Anchor(client, config));
  } catch (error) {
    return fail(name, messageOf(error), (error as { fix?: string }).fix ?? 'check the WRIT_ANCHOR_S3_* settings');
  } finally {
    client.destroy();
  }
}
