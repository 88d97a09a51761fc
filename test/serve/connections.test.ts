import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type pg from 'pg';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import { issueLinks } from '../../src/serve/issue-links.js';
import { SERVE_CONNECTIONS } from '../../src/serve/warm-connections.js';
import { freshLedger } from '../support/db.js';
import { spawnServe } from '../support/serve-process.js';
import { LINK_SECRET } from './fixtures.js';

/** pg's pool closes a connection idle for 10 s unless told otherwise. */
const QUIET_SPELL_MS = 11_000;

async function serveBackends(pool: pg.Pool, database: string): Promise<number[]> {
  const { rows } = await pool.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'writ-serve' ORDER BY pid`,
    [database],
  );
  return rows.map((row) => row.pid);
}

/** An operation with one record, for serve to answer about. */
async function plannedOperation(pool: pg.Pool): Promise<string> {
  const operationId = `op-${randomUUID()}`;
  await new GroupCommitAppender(pool).append({
    type: 'operation.planned',
    operationId,
    state: 'planned',
    actor: { id: 'alice', kind: 'user', groups: [] },
    payload: {},
  });
  return operationId;
}

/** The signed what-happened link (JSON) of an operation on the serve at `baseUrl`. */
function jsonLink(baseUrl: string, operationId: string): string {
  return issueLinks({ baseUrl, secret: LINK_SECRET, id: operationId, requester: 'hal', nowMs: Date.now() }).json;
}

describe('writ serve keeps its connections warm', () => {
  test('every connection is open before it listens, and still the same after a quiet spell', async (t) => {
    const { pool, url, name } = await freshLedger(t);
    const operationId = await plannedOperation(pool);
    const serve = await spawnServe(url, LINK_SECRET);
    try {
      const atStart = await serveBackends(pool, name);
      assert.equal(atStart.length, SERVE_CONNECTIONS, 'all connections opened (and warmed) before listening');

      await new Promise((resolve) => setTimeout(resolve, QUIET_SPELL_MS));
      assert.deepEqual(await serveBackends(pool, name), atStart, 'none was closed while idle');

      const answer = await fetch(jsonLink(serve.url, operationId));
      assert.equal(answer.status, 200, await answer.text());
      assert.deepEqual(await serveBackends(pool, name), atStart, 'the answer came on a connection already open');
    } finally {
      const code = await serve.stop();
      assert.equal(code, 0, serve.output());
    }
  });

  test('a request whose query gets no answer fails within WRIT_DB_QUERY_TIMEOUT_MS instead of hanging', async (t) => {
    const { pool, url } = await freshLedger(t);
    const operationId = await plannedOperation(pool);
    const serve = await spawnServe(url, LINK_SECRET, { WRIT_DB_QUERY_TIMEOUT_MS: '1500' });
    const blocker = await pool.connect();
    try {
      // What a database that stops answering looks like to serve: its reads wait for ever.
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE writ.operations IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      const answer = await fetch(jsonLink(serve.url, operationId), { signal: AbortSignal.timeout(15_000) });
      const waited = Date.now() - started;
      assert.ok(answer.status >= 500, `answered ${answer.status}: ${await answer.text()}`);
      assert.ok(waited < 10_000, `answered after ${waited} ms`);
    } finally {
      await blocker.query('ROLLBACK');
      blocker.release();
      const code = await serve.stop();
      assert.equal(code, 0, serve.output());
    }
  });
});
