import assert from 'node:assert/strict';
import type pg from 'pg';

/** Runs `work` on one connection as `role`: what a service holding only that role could do. */
export async function asRole<T>(pool: pg.Pool, role: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(`SET ROLE ${role}`);
    return await work(client);
  } finally {
    await client.query('RESET ROLE').catch(() => undefined);
    client.release();
  }
}

/** The error a statement was refused with; fails the test when it was not refused. */
export async function refusal(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; message: string };
  }
  assert.fail('the statement was expected to be refused');
}
