/**
 * The evidence benchmarks' ledger, built once and kept as a PostgreSQL template database
 * (`writ_bench_evidence_<size>_v<version>`). Each run measures a copy of it and drops the copy, so
 * the cached ledger is never changed by what a run does. The template's comment records what it
 * was built from (fixture version, size, migrations): a template built by an older fixture or
 * before a migration changed is rebuilt rather than measured.
 */
import { createHash, createPrivateKey, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createPool } from '../../src/db/pool.js';
import type { NoteSigner, VerifierKey } from '../../src/verify/note.js';
import { parseVerifierKey, verifierKeyString } from '../../src/verify/note.js';
import { migrate } from '../../src/ledger/migrate.js';
import { ADMIN_URL, log } from '../support.js';
import { KEY_NAME, fillLedger } from './fill.js';

/** Bump when the stories, their mix or the way the fixture is built change. */
export const FIXTURE_VERSION = 5;

export interface EvidenceFixture {
  url: string;
  records: number;
  operations: number;
  /** Trace ids shared by several operations, and how many operations those are. */
  sharedTraces: number;
  operationsInSharedTraces: number;
  /** The correlation id of the large job (traffic.ts LARGE_JOB) and how many operations it names. */
  largeTrace: { id: string; operations: number };
  signer: NoteSigner & { verifierKey: string };
  verifierKey: VerifierKey;
  /** Seconds the build took, when this run built the template. */
  buildSeconds: number | null;
  /** Seconds to copy the template into this run's scratch database. */
  copySeconds: number;
}

/** 1m, 32k, 1500: for names of databases and figures. */
export function sizeLabel(records: number): string {
  return records % 1_000_000 === 0
    ? `${records / 1_000_000}m`
    : records % 1000 === 0
      ? `${records / 1000}k`
      : String(records);
}

export function templateName(records: number, sealed = false): string {
  return `writ_bench_evidence_${sizeLabel(records)}_v${FIXTURE_VERSION}${sealed ? '_sealed' : ''}`;
}

/** What the template must have been built from; stored as its comment. */
function buildKey(records: number, sealed: boolean): string {
  const dir = new URL('../../../migrations/', import.meta.url);
  const hash = createHash('sha256');
  for (const name of readdirSync(dir).sort()) hash.update(name).update(readFileSync(new URL(name, dir)));
  return JSON.stringify({ fixture: FIXTURE_VERSION, records, sealed, migrations: hash.digest('hex').slice(0, 16) });
}

function urlFor(database: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

export async function withEvidenceFixture<T>(
  options: { records: number; rebuild: boolean; sealed: boolean },
  work: (fixture: EvidenceFixture) => Promise<T>,
): Promise<T> {
  const template = templateName(options.records, options.sealed);
  const key = buildKey(options.records, options.sealed);
  const admin = new pg.Client({ connectionString: ADMIN_URL, application_name: 'writ-bench' });
  await admin.connect();
  const scratch = `writ_bench_${randomBytes(4).toString('hex')}`;
  // A run stopped with Ctrl-C would otherwise leave gigabytes behind: the copy, or a half-built template.
  const onSignal = () => {
    log('fixture: interrupted; dropping the scratch databases');
    void dropAll([scratch, `${template}_building`]).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    // Two runs at once would otherwise both build, or copy a template the other is dropping.
    await admin.query('SELECT pg_advisory_lock(hashtext($1))', [template]);
    const existing = await admin.query<{ comment: string | null }>(
      `SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1`,
      [template],
    );
    let buildSeconds: number | null = null;
    if (options.rebuild || existing.rows[0]?.comment !== key) {
      if (existing.rowCount)
        log(
          `fixture: ${options.rebuild ? 'rebuilding' : 'the cached template was built from something else; rebuilding'} ${template}`,
        );
      buildSeconds = await build(admin, template, key, options.records, options.sealed);
    } else {
      log(`fixture: reusing the template ${template} (--rebuild to build it again)`);
    }
    const t0 = performance.now();
    // FILE_COPY copies the files whole; the default (WAL_LOG) would write gigabytes of WAL.
    await admin.query(`CREATE DATABASE ${scratch} TEMPLATE ${template} STRATEGY FILE_COPY`);
    const copySeconds = (performance.now() - t0) / 1000;
    await admin.query('SELECT pg_advisory_unlock(hashtext($1))', [template]);
    log(`fixture: copied ${template} to ${scratch} in ${copySeconds.toFixed(1)} s`);
    const url = urlFor(scratch);
    const pool = createPool(url, { max: 2, applicationName: 'writ-bench' });
    let meta: Map<string, string>;
    try {
      meta = new Map(
        (await pool.query<{ key: string; value: string }>('SELECT key, value FROM bench_fixture.meta')).rows.map(
          (row) => [row.key, row.value],
        ),
      );
    } finally {
      await pool.end();
    }
    const privateKey = createPrivateKey(meta.get('private_key_pem')!);
    const verifierKey = verifierKeyString(KEY_NAME, privateKey);
    return await work({
      url,
      records: options.records,
      operations: Number(meta.get('operations')),
      sharedTraces: Number(meta.get('shared_traces')),
      operationsInSharedTraces: Number(meta.get('operations_in_shared_traces')),
      largeTrace: { id: meta.get('large_trace_id')!, operations: Number(meta.get('large_trace_operations')) },
      signer: { name: KEY_NAME, privateKey, verifierKey },
      verifierKey: parseVerifierKey(verifierKey),
      buildSeconds,
      copySeconds,
    });
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    await admin.query(`DROP DATABASE IF EXISTS ${scratch} WITH (FORCE)`);
    await admin.end();
  }
}

/** On its own connection: the run's admin connection may be busy with the statement being interrupted. */
async function dropAll(names: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL, application_name: 'writ-bench' });
  await client.connect();
  try {
    for (const name of names) await dropDatabase(client, name);
  } finally {
    await client.end();
  }
}

/** Builds under a temporary name and renames at the end, so an interrupted build never looks finished. */
async function build(
  admin: pg.Client,
  template: string,
  key: string,
  records: number,
  sealed: boolean,
): Promise<number> {
  const building = `${template}_building`;
  const started = performance.now();
  // Templates of earlier fixture versions of this size are gigabytes nobody will use again.
  const family = template.replace(/_v\d+(_sealed)?$/, '');
  const stale = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname ~ $1', [
    `^${family}_v[0-9]+${sealed ? '_sealed' : ''}$`,
  ]);
  for (const { datname } of stale.rows) await dropDatabase(admin, datname);
  try {
    await admin.query(`CREATE DATABASE ${building}`);
    await migrate(urlFor(building));
    const pool = createPool(urlFor(building), { max: 3, applicationName: 'writ-bench-fixture' });
    try {
      const filled = await fillLedger(pool, records, sealed);
      await pool.query('CREATE SCHEMA bench_fixture');
      await pool.query('CREATE TABLE bench_fixture.meta (key text PRIMARY KEY, value text NOT NULL)');
      const { stats } = filled;
      if (!stats.largeTrace) throw new Error('the fixture is too small to hold the large job; use a larger --records');
      const meta: Record<string, string> = {
        private_key_pem: filled.privateKeyPem,
        operations: String(stats.operations),
        shared_traces: String(stats.sharedTraces),
        operations_in_shared_traces: String(stats.operationsInSharedTraces),
        large_trace_id: stats.largeTrace.id,
        large_trace_operations: String(stats.largeTrace.operations),
      };
      for (const [name, value] of Object.entries(meta))
        await pool.query('INSERT INTO bench_fixture.meta VALUES ($1, $2)', [name, value]);
    } finally {
      await pool.end();
    }
    await admin.query(`ALTER DATABASE ${building} RENAME TO ${template}`);
    await admin.query(`ALTER DATABASE ${template} WITH IS_TEMPLATE true`);
    await admin.query(`COMMENT ON DATABASE ${template} IS ${pg.escapeLiteral(key)}`);
  } catch (error) {
    await dropDatabase(admin, building);
    throw error;
  }
  const seconds = (performance.now() - started) / 1000;
  log(`fixture: built ${template} in ${seconds.toFixed(0)} s`);
  return seconds;
}

async function dropDatabase(admin: pg.Client, name: string): Promise<void> {
  try {
    await admin.query(`ALTER DATABASE ${pg.escapeIdentifier(name)} WITH IS_TEMPLATE false`);
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  } catch (error) {
    // Already gone (or dropped meanwhile by the interrupt handler): that is what was wanted.
    if ((error as { code?: string }).code !== '3D000') throw error;
  }
}
