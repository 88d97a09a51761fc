import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/** Writ's login roles (deploy/postgres/initdb/writ-logins.psql): one per service, least privilege. */
export const LOGINS = {
  worker: 'writ_worker',
  checkpoint: 'writ_checkpoint',
  serve: 'writ_serve',
  connector: 'writ_connector',
} as const;

export type Service = keyof typeof LOGINS;

function loginsSqlPath(): string {
  // Compiled code lives in dist/src/db, sources in src/db; deploy/ sits at the package root.
  const here = fileURLToPath(new URL('.', import.meta.url));
  const root = here.includes('/dist/') ? new URL('../../../', import.meta.url) : new URL('../../', import.meta.url);
  return fileURLToPath(new URL('deploy/postgres/initdb/writ-logins.psql', root));
}

/**
 * Creates the login roles exactly as the compose init script does (the same SQL file), as the
 * superuser of `adminUrl`. With `passwords`, each login gets its own; without, they keep theirs
 * (trust authentication, as the demo's local and embedded servers use).
 */
export async function ensureLogins(adminUrl: string, passwords: Partial<Record<Service, string>> = {}): Promise<void> {
  const sql = await readFile(loginsSqlPath(), 'utf8');
  for (let attempt = 1; ; attempt++) {
    const client = new pg.Client({ connectionString: adminUrl, application_name: 'writ-logins' });
    await client.connect();
    try {
      for (const service of Object.keys(LOGINS) as Service[])
        await client.query('SELECT set_config($1, $2, false)', [`writ.${service}_password`, passwords[service] ?? '']);
      await client.query(sql);
      return;
    } catch (error) {
      // Roles are cluster-wide: two demos starting at once can race on the same catalog row.
      if (attempt >= 5 || (error as { code?: string }).code !== 'XX000') throw error;
    } finally {
      await client.end();
    }
  }
}

/** `url` as the given service's login (its password, if any, replacing the URL's). */
export function urlAs(url: string, service: Service, password?: string): string {
  const parsed = new URL(url);
  parsed.username = LOGINS[service];
  parsed.password = password ? encodeURIComponent(password) : '';
  return parsed.toString();
}

/**
 * A password for each login derived from the administrator's (demo and dev): deterministic, so
 * two runs on one server agree, and no stronger or weaker than the password it comes from.
 * None when the administrator connects without one (trust authentication).
 */
export function derivedPasswords(adminUrl: string): Partial<Record<Service, string>> {
  const secret = decodeURIComponent(new URL(adminUrl).password);
  if (!secret) return {};
  const derive = (service: Service) => createHash('sha256').update(`writ-login:${service}:${secret}`).digest('hex');
  return Object.fromEntries((Object.keys(LOGINS) as Service[]).map((service) => [service, derive(service)]));
}
