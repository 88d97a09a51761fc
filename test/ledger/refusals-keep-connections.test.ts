import assert from 'node:assert/strict';
import type pg from 'pg';
import { describe, test } from 'node:test';
import { createPool } from '../../src/db/pool.js';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import type { RecordDraft } from '../../src/ledger/record.js';
import { prepareRecord } from '../../src/ledger/record.js';
import { freshLedger } from '../support/db.js';
import { refusal } from '../support/roles.js';

const executed = (tier: string, attempt: number): RecordDraft => ({
  type: 'step.executed',
  operationId: 'op-1',
  stepIndex: 0,
  state: 'executed',
  actor: { id: 'alice', kind: 'user' },
  idempotencyKey: 'wf/op-1/step.executed/0/0',
  workflow: { workflowId: 'op-1', runId: 'run-1', activityAttempt: attempt },
  payload: { after: { tier } },
});

const note = (n: number): RecordDraft => ({
  type: 'manual.note',
  actor: { id: 'alice', kind: 'user' },
  payload: { message: `note ${n}` },
});

/** Waits until backend `pid` is running a statement. */
async function untilRunning(admin: pg.Pool, pid: number): Promise<void> {
  while (!(await admin.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = 'active'`, [pid])).rowCount)
    await new Promise((resolve) => setTimeout(resolve, 20));
}

/** The PostgreSQL backend that serves the pool's next statement. */
async function backendPid(pool: pg.Pool): Promise<number> {
  return (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
}

describe('a statement the server refuses leaves its connection in the pool', () => {
  test('the appender keeps its session through a key conflict and a refused link', async (t) => {
    const { url } = await freshLedger(t);
    const pool = createPool(url, { max: 1 });
    t.after(() => pool.end());
    const pids: number[] = [];
    const appender = new GroupCommitAppender(pool, {
      onBatch: (batch) => void (batch.backendPid !== undefined && pids.push(batch.backendPid)),
    });

    await appender.append(executed('silver', 1));
    // Refused by the unique key (23505), then written again as a ledger.key_conflict record.
    await assert.rejects(appender.append(executed('gold', 2)), { code: 'LEDGER_KEY_CONFLICT' });
    // Refused by the link check (WRT08): a link made by hand, past the chain's head.
    const forged = await refusal(
      pool.query(
        `INSERT INTO writ.records (canonical, seq, prev_hash, hash) VALUES ($1, 99, sha256('x'), sha256('y'))`,
        [prepareRecord(note(0)).canonical],
      ),
    );
    assert.equal(forged.code, 'WRT08');
    await appender.append(note(1));

    assert.ok(pids.length >= 2, `batches seen: ${pids.length}`);
    assert.equal(new Set(pids).size, 1, `one backend served every batch: ${pids.join(', ')}`);
    assert.equal(pool.totalCount, 1);
  });

  test('a connection that is lost mid-statement is closed, and the next statement gets a new one', async (t) => {
    const { url, pool: admin } = await freshLedger(t);
    const pool = createPool(url, { max: 1 });
    t.after(() => pool.end());
    const before = await backendPid(pool);

    // The expectation is attached at once: the terminated statement may fail before the
    // terminating one answers, and an unawaited rejection would fail the whole run.
    const lost = assert.rejects(pool.query('SELECT pg_sleep(30)'), { code: '57P01' });
    await untilRunning(admin, before);
    await admin.query('SELECT pg_terminate_backend($1)', [before]);
    await lost;

    const after = await backendPid(pool);
    assert.notEqual(after, before);
  });

  test('a connection that reports several errors during one statement fails that statement, not the process', async (t) => {
    const { url, pool: admin } = await freshLedger(t);
    const pool = createPool(url, { max: 1 });
    t.after(() => pool.end());
    const before = await backendPid(pool);
    let checkedOut: pg.PoolClient | undefined;
    pool.on('acquire', (client) => (checkedOut = client));

    const cancelled = assert.rejects(pool.query('SELECT pg_sleep(30)'), { code: '57014' });
    await untilRunning(admin, before);
    // What pg's socket handler does when the connection breaks; with no listener left for the
    // second error, EventEmitter throws it, and from inside pg that ends the process.
    assert.ok(checkedOut);
    assert.doesNotThrow(() => {
      checkedOut!.emit('error', new Error('read ECONNRESET'));
      checkedOut!.emit('error', new Error('write EPIPE'));
    });
    await admin.query('SELECT pg_cancel_backend($1)', [before]);
    await cancelled;

    // The connection that reported errors is not handed out again.
    const after = await backendPid(pool);
    assert.notEqual(after, before);
  });

  test('a refused statement returns its error and the next statement runs on the same backend', async (t) => {
    const { url } = await freshLedger(t);
    const pool = createPool(url, { max: 1 });
    t.after(() => pool.end());
    const before = await backendPid(pool);
    await assert.rejects(pool.query('SELECT 1 / 0'), { code: '22012' });
    await assert.rejects(pool.query({ text: 'SELECT $1::int', values: ['not a number'] }), { code: '22P02' });
    assert.equal(await backendPid(pool), before);
  });
});
