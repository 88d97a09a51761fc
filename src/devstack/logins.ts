import pg from 'pg';
import { derivedPasswords, ensureLogins, urlAs } from '../db/logins.js';

/** Where each service of the local stack connects: its own least-privileged login (src/db/logins.ts). */
export interface ServiceUrls {
  worker: string;
  checkpoint: string;
  serve: string;
  connector: string;
}

/**
 * Makes the login roles as the compose init script does (the same SQL) and returns each
 * service's URL on the ledger's database. `ledgerUrl` must be a superuser's (or a CREATEROLE
 * owner's): the demo's and `writ dev`'s local and embedded servers are. Passwords derive from
 * that URL's, so trust-authenticated servers need none.
 */
export async function prepareLogins(ledgerUrl: string): Promise<ServiceUrls> {
  const passwords = derivedPasswords(ledgerUrl);
  await ensureLogins(ledgerUrl, passwords);
  const client = new pg.Client({ connectionString: ledgerUrl, application_name: 'writ-logins' });
  await client.connect();
  try {
    // The postgres connector keeps its idempotency table in a schema of its own (writ_connector).
    const { rows } = await client.query<{ db: string }>('SELECT current_database() AS db');
    await client.query(`GRANT CONNECT, CREATE ON DATABASE ${pg.escapeIdentifier(rows[0]!.db)} TO writ_connector`);
  } finally {
    await client.end();
  }
  return {
    worker: urlAs(ledgerUrl, 'worker', passwords.worker),
    checkpoint: urlAs(ledgerUrl, 'checkpoint', passwords.checkpoint),
    serve: urlAs(ledgerUrl, 'serve', passwords.serve),
    connector: urlAs(ledgerUrl, 'connector', passwords.connector),
  };
}
