import pg from 'pg';
import { anchorDatabaseCheck, anchorDirCheck } from './anchors.js';
import { anchorS3Check } from './anchor-s3.js';
import type { CheckResult } from './check.js';
import { guarded, skip } from './check.js';
import { checkpointFreshnessCheck } from './checkpoints.js';
import { clockCheck } from './clock.js';
import type { DoctorContext } from './context.js';
import { ledgerChecks, reachDatabase } from './database.js';
import { oidcIssuerCheck, slackCheck } from './identity.js';
import { serveHttpCheck } from './serve.js';
import { signingKeyCheck } from './signing.js';
import { temporalChecks } from './temporal.js';

/**
 * Every check the role calls for, run side by side (a container's health check has seconds), and
 * reported in a fixed order: Temporal, the database, then the service's own configuration.
 */
export async function runDoctor(context: DoctorContext): Promise<CheckResult[]> {
  const { role, env } = context;
  const worker = role !== 'serve';
  const serve = role !== 'worker';
  const groups = await Promise.all([
    temporalChecks(context),
    databaseChecks(context),
    Promise.all([
      ...(worker
        ? [
            signingKeyCheck(env),
            anchorDirCheck(env.WRIT_ANCHOR_DIR),
            anchorDatabaseCheck(env.WRIT_ANCHOR_DATABASE_URL),
            anchorS3Check(env),
          ]
        : []),
      ...(serve ? [oidcIssuerCheck(env.WRIT_OIDC_ISSUER?.trim()), slackCheck(env)] : []),
      ...(role === 'serve' ? [serveHttpCheck(env)] : []),
    ]),
  ]);
  return groups.flat();
}

async function databaseChecks(context: DoctorContext): Promise<CheckResult[]> {
  const url = context.config.databaseUrl;
  const worker = context.role !== 'serve';
  const pool = new pg.Pool({
    connectionString: url,
    max: 2,
    connectionTimeoutMillis: 3_000,
    application_name: 'writ-doctor',
  });
  pool.on('error', () => undefined);
  try {
    const unreachable = await reachDatabase(pool, url);
    if (unreachable)
      return [
        unreachable,
        ...['migrations', 'row-level-security', ...(worker ? ['checkpoint-freshness'] : []), 'clock'].map((name) =>
          skip(name, 'the database is unreachable'),
        ),
      ];
    return [
      ...(await ledgerChecks(pool, context)),
      ...(worker
        ? [
            await guarded('checkpoint-freshness', 'writ migrate', () =>
              checkpointFreshnessCheck(pool, context.env.WRIT_CHECKPOINT_EVERY?.trim()),
            ),
          ]
        : []),
      await guarded('clock', 'check DATABASE_URL', () => clockCheck(pool, context.now, context.clockToleranceMs)),
    ];
  } finally {
    await pool.end();
  }
}
