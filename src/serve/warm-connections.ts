import type pg from 'pg';
import { warmLookups } from '../evidence/what-happened/index.js';

/** How many connections `writ serve` keeps: lookups, access records and approvals share them. */
export const SERVE_CONNECTIONS = 4;

/**
 * Opens every connection the server will use and runs each lookup once on it, before the server
 * listens, so that nobody's first question waits for PostgreSQL to warm up a session (the pool
 * keeps the connections afterwards: `keepConnections`).
 */
export async function warmConnections(pool: pg.Pool, connections = SERVE_CONNECTIONS): Promise<void> {
  const clients = await Promise.all(Array.from({ length: connections }, () => pool.connect()));
  try {
    await Promise.all(clients.map((client) => warmLookups(client)));
  } finally {
    for (const client of clients) client.release();
  }
}
