/**
 * What the postgres image does on the first start of an empty volume, natively: make the
 * POSTGRES_USER superuser and POSTGRES_DB, then run docker-entrypoint-initdb.d's scripts (Compose
 * mounts deploy/postgres/initdb there) in name order, with the environment Compose gives them.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { REPO_ROOT, runCommand } from '../cli.js';
import type { PgCluster } from './pg-cluster.js';
import { asSuperuser } from './pg-cluster.js';

/** The .env secrets Compose requires, fresh per topology. */
export interface ComposeSecrets {
  POSTGRES_PASSWORD: string;
  TEMPORAL_DB_PASSWORD: string;
  WRIT_WORKER_DB_PASSWORD: string;
  WRIT_CHECKPOINT_DB_PASSWORD: string;
  WRIT_SERVE_DB_PASSWORD: string;
  WRIT_CONNECTOR_DB_PASSWORD: string;
}

export function freshSecrets(): ComposeSecrets {
  const secret = () => randomBytes(12).toString('base64url');
  return {
    POSTGRES_PASSWORD: secret(),
    TEMPORAL_DB_PASSWORD: secret(),
    WRIT_WORKER_DB_PASSWORD: secret(),
    WRIT_CHECKPOINT_DB_PASSWORD: secret(),
    WRIT_SERVE_DB_PASSWORD: secret(),
    WRIT_CONNECTOR_DB_PASSWORD: secret(),
  };
}

export const COMPOSE_POSTGRES_USER = 'writ';
export const COMPOSE_POSTGRES_DB = 'writ';

export async function initLikeComposeVolume(cluster: PgCluster, secrets: ComposeSecrets): Promise<void> {
  await asSuperuser(cluster, 'postgres', async (client) => {
    await client.query(
      `CREATE ROLE ${pg.escapeIdentifier(COMPOSE_POSTGRES_USER)} SUPERUSER LOGIN PASSWORD ${pg.escapeLiteral(secrets.POSTGRES_PASSWORD)}`,
    );
    await client.query(
      `CREATE DATABASE ${pg.escapeIdentifier(COMPOSE_POSTGRES_DB)} OWNER ${pg.escapeIdentifier(COMPOSE_POSTGRES_USER)}`,
    );
  });
  const initdb = join(REPO_ROOT, 'deploy', 'postgres', 'initdb');
  for (const file of readdirSync(initdb)
    .filter((name) => name.endsWith('.sh'))
    .sort()) {
    const result = await runCommand('/bin/sh', [join(initdb, file)], {
      env: {
        ...secrets,
        POSTGRES_USER: COMPOSE_POSTGRES_USER,
        POSTGRES_DB: COMPOSE_POSTGRES_DB,
        // The image runs these against its socket-only init server; so does this, on the test's cluster.
        PGHOST: cluster.socketDir,
        PGPORT: String(cluster.port),
        PGPASSWORD: '',
      },
    });
    if (result.code !== 0) throw new Error(`deploy/postgres/initdb/${file} failed: ${result.stderr}`);
  }
}
