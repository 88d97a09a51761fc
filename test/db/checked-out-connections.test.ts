/**
 * PostgreSQL ending a connection that Writ has checked out, between two statements (a restart, an
 * administrator's pg_terminate_backend), fails what was running on it and nothing else: the
 * process lives on, and the pool serves the next caller on a new connection. Before, the pool
 * heard errors only on idle connections, and a worker died with "Unhandled 'error' event" when
 * PostgreSQL restarted under a connector's write (test/topology/cluster-faults, 2026-12-05).
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import type pg from 'pg';
import { openDatabase } from '../../src/connectors/postgres/database.js';
import { once } from '../../src/connectors/postgres/write.js';
import { createPool } from '../../src/db/pool.js';
import { inTransaction } from '../../src/db/transaction.js';
import { freshDatabase } from '../support/db.js';

/** Ends backend `pid` as a server restart would, and waits until its client has been told. */
async function endBackend(admin: pg.Pool, pid: number): Promise<void> {
  await admin.query('SELECT pg_terminate_backend($1)', [pid]);
  while ((await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount) await sleep(20);
  // The FATAL message reaches the client's socket a moment after the backend has gone.
  await sleep(200);
}

async function backendPid(client: pg.ClientBase): Promise<number> {
  return (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
}

async function onePool(t: Parameters<typeof freshDatabase>[0]) {
  const { url, pool: admin } = await freshDatabase(t, {});
  const pool = createPool(url, { max: 1 });
  t.after(() => pool.end());
  return { pool, admin };
}

test('a transaction whose connection the server ends fails, and the pool goes on with a new one', async (t) => {
  const { pool, admin } = await onePool(t);
  let ended = 0;
  await assert.rejects(
    inTransaction(pool, async (client) => {
      ended = await backendPid(client);
      await endBackend(admin, ended);
      await client.query('SELECT 1');
    }),
  );
  const next = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  assert.notEqual(next, ended, 'the ended connection was not handed out again');
});

test('a connector write whose connection the server ends fails, and the next write goes through', async (t) => {
  const { pool, admin } = await onePool(t);
  await pool.query('CREATE TABLE accounts (id int PRIMARY KEY, tier text NOT NULL)');
  const db = openDatabase({ pool });
  await assert.rejects(
    once(db, 'write-1', 'public.accounts/1', 'update', async (client) => {
      await endBackend(admin, await backendPid(client));
      await client.query(`INSERT INTO accounts VALUES (1, 'gold')`);
      return { tier: 'gold' };
    }),
  );
  const again = await once(db, 'write-1', 'public.accounts/1', 'update', async (client) => {
    await client.query(`INSERT INTO accounts VALUES (1, 'gold')`);
    return { tier: 'gold' };
  });
  assert.deepEqual(again, { after: { tier: 'gold' }, repeated: false }, 'nothing of the first attempt was kept');
  assert.deepEqual((await pool.query('SELECT id, tier FROM accounts')).rows, [{ id: 1, tier: 'gold' }]);
});
