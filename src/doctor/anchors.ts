import { randomBytes } from 'node:crypto';
import { open, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { redactUrl } from '../db/pool.js';
import type { CheckResult } from './check.js';
import { fail, messageOf, ok, skip } from './check.js';

/** WRIT_ANCHOR_DIR exists and this user can create files in it: proven by writing and removing a probe. */
export async function anchorDirCheck(dir: string | undefined): Promise<CheckResult> {
  const name = 'anchor-dir';
  if (!dir) return skip(name, 'WRIT_ANCHOR_DIR is not set');
  const user = process.getuid ? `uid ${process.getuid()}` : 'this user';
  try {
    if (!(await stat(dir)).isDirectory())
      return fail(name, `${dir} is not a directory`, `point WRIT_ANCHOR_DIR at a directory`);
  } catch (error) {
    return fail(
      name,
      `${dir}: ${messageOf(error)}`,
      `mkdir -p ${dir} && chown ${process.getuid?.() ?? '<user>'} ${dir}`,
    );
  }
  const probe = join(dir, `.writ-doctor-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const handle = await open(probe, 'wx', 0o600);
    await handle.close();
    await unlink(probe);
  } catch (error) {
    // A read-only volume (`:ro` in Compose) refuses even root; ownership is not the cure there.
    const readOnly = (error as { code?: string }).code === 'EROFS';
    return fail(
      name,
      `${dir} is not writable by ${user}: ${messageOf(error)}`,
      readOnly
        ? `mount ${dir} read-write (drop :ro from its volume), so checkpoints can be anchored there`
        : `chown ${process.getuid?.() ?? '<user>'} ${dir} (or chmod u+w), so checkpoints can be anchored there`,
    );
  }
  return ok(name, `${dir} is writable`);
}

/** WRIT_ANCHOR_DATABASE_URL answers, and its login may write the anchors there. */
export async function anchorDatabaseCheck(url: string | undefined): Promise<CheckResult> {
  const name = 'anchor-database';
  if (!url) return skip(name, 'WRIT_ANCHOR_DATABASE_URL is not set');
  const where = redactUrl(url);
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: 3_000,
    application_name: 'writ-doctor',
  });
  try {
    await client.connect();
    // The sink makes its table on first use; afterwards the login must be able to insert into it.
    const { rows } = await client.query<{ writable: boolean }>(
      `SELECT CASE WHEN to_regclass('writ_anchor.checkpoints') IS NULL
                   THEN has_database_privilege(current_database(), 'CREATE')
                   ELSE has_table_privilege('writ_anchor.checkpoints', 'INSERT') END AS writable`,
    );
    if (!rows[0]?.writable)
      return fail(
        name,
        `${where}: this login can neither create nor insert into writ_anchor.checkpoints`,
        'GRANT INSERT, SELECT ON writ_anchor.checkpoints TO <this login> (or CREATE on the database, for the first anchor)',
      );
    return ok(name, `${where} answers and takes anchors`);
  } catch (error) {
    return fail(name, `${where}: ${messageOf(error)}`, 'check WRIT_ANCHOR_DATABASE_URL: host, login and password');
  } finally {
    await client.end().catch(() => undefined);
  }
}
