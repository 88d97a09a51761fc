import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { canonicalBytes } from '../../src/verify/canonical.js';
import { asRole } from './roles.js';

/**
 * A record in canonical bytes inserted the way anyone holding writ_writer can: raw SQL, past
 * Writ's appender. Members not given are those of a plain record on the main chain, now.
 */
export async function plantAsWriter(pool: pg.Pool, record: Record<string, unknown>): Promise<number> {
  const canonical = canonicalBytes({
    v: 1,
    chain: 'main',
    eventId: randomUUID(),
    correlationId: null,
    traceparent: null,
    stepIndex: null,
    state: null,
    workflow: null,
    occurredAt: new Date().toISOString(),
    ...record,
  });
  return asRole(pool, 'writ_writer', async (client) =>
    Number(
      (await client.query('INSERT INTO writ.records (canonical) VALUES ($1) RETURNING seq', [canonical])).rows[0].seq,
    ),
  );
}
