import { mkdir, open, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import type { AnchorKeyEvent } from '../verify/anchor-audit.js';
import { s3Sink } from './anchor-s3.js';
import { s3AnchorConfigFromEnv } from './anchor-s3-config.js';

export interface AnchoredCheckpoint {
  chainId: string;
  size: number;
  note: string;
  /** Who holds this copy: the sink's name, plus the version for a later version of an S3 key. */
  sink: string;
}

/**
 * A place outside the ledger's trust boundary that keeps every checkpoint: whoever can rewrite the
 * ledger cannot also rewrite these. The S3 Object Lock sink (anchor-s3.ts) adds the two optional calls.
 */
export interface AnchorSink {
  name: string;
  /** Writes once; writing the same checkpoint again is a no-op, a different one for the same size is an error. */
  put(chainId: string, size: number, note: string): Promise<void>;
  /** Every checkpoint held for the chain; a versioned store returns every version of every key. */
  list(chainId: string): Promise<AnchoredCheckpoint[]>;
  /** A versioned store: what happened to keys after their first write (later versions, delete markers). */
  history?(chainId: string): Promise<AnchorKeyEvent[]>;
  /** Throws, saying what is wrong and what fixes it, when this sink cannot keep its promise (run at start). */
  preflight?(): Promise<string>;
  close?(): Promise<void>;
}

const fileName = (size: number) => `${String(size).padStart(16, '0')}.checkpoint`;

export function directorySink(dir: string): AnchorSink {
  const name = `dir:${dir}`;
  return {
    name,
    async put(chainId, size, note) {
      const chainDir = join(dir, encodeURIComponent(chainId));
      await mkdir(chainDir, { recursive: true });
      const path = join(chainDir, fileName(size));
      try {
        // O_EXCL: an anchor is never overwritten, not even by us.
        const handle = await open(path, 'wx', 0o444);
        try {
          await handle.writeFile(note);
          await handle.sync();
        } finally {
          await handle.close();
        }
      } catch (error) {
        if ((error as { code?: string }).code !== 'EEXIST') throw error;
        const existing = await readFile(path, 'utf8');
        if (existing !== note)
          throw new Error(`anchor conflict in ${path}: a different checkpoint for size ${size} is already anchored`);
      }
    },
    async list(chainId) {
      const chainDir = join(dir, encodeURIComponent(chainId));
      let files: string[];
      try {
        files = await readdir(chainDir);
      } catch (error) {
        if ((error as { code?: string }).code === 'ENOENT') return [];
        throw error;
      }
      const anchored: AnchoredCheckpoint[] = [];
      for (const file of files.filter((f) => /^\d{16}\.checkpoint$/.test(f)).sort()) {
        anchored.push({
          chainId,
          size: Number(file.slice(0, 16)),
          note: await readFile(join(chainDir, file), 'utf8'),
          sink: name,
        });
      }
      return anchored;
    },
  };
}

/** A second PostgreSQL database with its own credentials: the ledger's owner cannot write here. */
export function postgresSink(databaseUrl: string): AnchorSink {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2, application_name: 'writ-anchor' });
  pool.on('error', () => undefined);
  const name = `postgres:${new URL(databaseUrl).host}${new URL(databaseUrl).pathname}`;
  let ready: Promise<unknown> | undefined;
  const setup = () =>
    (ready ??= pool.query(`
    CREATE SCHEMA IF NOT EXISTS writ_anchor;
    CREATE TABLE IF NOT EXISTS writ_anchor.checkpoints (
      chain_id text NOT NULL, size bigint NOT NULL, note text NOT NULL,
      anchored_at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (chain_id, size))`));
  return {
    name,
    async put(chainId, size, note) {
      await setup();
      const inserted = await pool.query(
        'INSERT INTO writ_anchor.checkpoints (chain_id, size, note) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
        [chainId, size, note],
      );
      if (inserted.rowCount) return;
      const existing = await pool.query<{ note: string }>(
        'SELECT note FROM writ_anchor.checkpoints WHERE chain_id = $1 AND size = $2',
        [chainId, size],
      );
      if (existing.rows[0]?.note !== note)
        throw new Error(`anchor conflict in ${name}: a different checkpoint for size ${size} is already anchored`);
    },
    async list(chainId) {
      await setup();
      const rows = await pool.query<{ size: string; note: string }>(
        'SELECT size, note FROM writ_anchor.checkpoints WHERE chain_id = $1 ORDER BY size',
        [chainId],
      );
      return rows.rows.map((row) => ({ chainId, size: Number(row.size), note: row.note, sink: name }));
    },
    close: () => pool.end(),
  };
}

export function anchorsFromEnv(env: NodeJS.ProcessEnv, origin: string): AnchorSink[] {
  const s3 = s3AnchorConfigFromEnv(env, origin);
  return [
    ...(env.WRIT_ANCHOR_DIR ? [directorySink(env.WRIT_ANCHOR_DIR)] : []),
    ...(env.WRIT_ANCHOR_DATABASE_URL ? [postgresSink(env.WRIT_ANCHOR_DATABASE_URL)] : []),
    ...(s3 ? [s3Sink(s3)] : []),
  ];
}
