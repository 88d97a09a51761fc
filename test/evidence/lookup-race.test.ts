import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type pg from 'pg';
import { findEvidence } from '../../src/evidence/what-happened/index.js';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import type { RecordDraft } from '../../src/ledger/record.js';
import { freshLedger } from '../support/db.js';

function draft(operationId: string, type: string, state: string): RecordDraft {
  return { type, operationId, state, actor: { id: 'alice', kind: 'user', groups: [] }, payload: {} };
}

/**
 * A pool whose summary read answers first, and whose records read starts only once `between` has
 * run: what two connections' snapshots give when an operation's first records commit between them.
 */
function summaryThenRecords(
  pool: pg.Pool,
  between: () => Promise<void>,
): { pool: pg.Pool; summaryReads: () => number } {
  let summaryReads = 0;
  let summaryDone!: () => void;
  const summaryAnswered = new Promise<void>((resolve) => (summaryDone = resolve));
  const query = async (sql: string, params: unknown[]) => {
    if (sql.includes('operation_stories')) {
      const result = await pool.query(sql, params);
      if (++summaryReads === 1) {
        await between();
        summaryDone();
      }
      return result;
    }
    await summaryAnswered;
    return pool.query(sql, params);
  };
  const racing = new Proxy(pool, {
    get: (target, name, receiver) => (name === 'query' ? query : Reflect.get(target, name, receiver)),
  });
  return { pool: racing, summaryReads: () => summaryReads };
}

describe('what-happened while an operation starts', () => {
  test('records committed between the summary and the timeline are an operation starting, not damage', async (t) => {
    const { pool } = await freshLedger(t);
    const appender = new GroupCommitAppender(pool);
    const operationId = `op-${randomUUID()}`;
    const racing = summaryThenRecords(pool, async () => {
      await appender.appendAll([
        draft(operationId, 'operation.planned', 'planned'),
        draft(operationId, 'operation.validated', 'validated'),
      ]);
    });

    const evidence = await findEvidence(racing.pool, operationId, { timeline: true });

    assert.ok(evidence, 'the operation is found');
    assert.equal(evidence.summary?.operations[0]?.operationId, operationId);
    assert.equal(evidence.summary?.operations[0]?.state, 'validated');
    assert.deepEqual(
      evidence.events?.map((event) => event.type),
      ['operation.planned', 'operation.validated'],
    );
    assert.equal(racing.summaryReads(), 2, 'the summary was read again once the records were seen');
  });

  test('records the projection does not have, read again, are still reported as damage', async (t) => {
    const { pool } = await freshLedger(t);
    const operationId = `op-${randomUUID()}`;
    await new GroupCommitAppender(pool).appendAll([draft(operationId, 'operation.planned', 'planned')]);
    // The owner's edit that the message is for: the projection row gone, the records still there.
    await pool.query('ALTER TABLE writ.operations DISABLE TRIGGER ALL');
    await pool.query('DELETE FROM writ.operations WHERE operation_id = $1', [operationId]);

    await assert.rejects(findEvidence(pool, operationId, { timeline: true }), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'LEDGER_DAMAGED');
      assert.match(error.message, /the ledger has 1 record\(s\) for op-.* but the what-happened view has none/);
      return true;
    });
  });
});
