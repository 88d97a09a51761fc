import type pg from 'pg';
import { checkOut } from './check-out.js';

/**
 * Runs `work` in one transaction on a connection of its own: committed when it returns, rolled
 * back when it throws. A connection whose rollback failed is discarded, not handed to the next caller.
 */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const { client, release } = await checkOut(pool);
  let healthy = true;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {
      healthy = false;
    });
    throw error;
  } finally {
    release(!healthy);
  }
}
