import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import { manualEventToDraft } from '../../src/ledger/manual-event.js';
import { runWrit } from '../support/cli.js';
import { freshLedger } from '../support/db.js';
import { note } from '../support/records.js';

const workflow = { workflowId: 'op-1', runId: 'run-1', activityAttempt: 1 };
const executed = (after: string, extra: object = {}) => ({
  type: 'step.executed',
  operationId: 'op-1',
  stepIndex: 0,
  state: 'executed',
  actor: { id: 'alice', kind: 'user' as const },
  idempotencyKey: 'wf/op-1/step.executed/0/0',
  workflow,
  payload: { after: { tier: after } },
  ...extra,
});

describe('a key conflict is an error, recorded loudly, never a silent duplicate', () => {
  test('when a different record arrives under a key already taken, the append is refused with LEDGER_KEY_CONFLICT and the conflict is recorded with both hashes', async (t) => {
    const { pool } = await freshLedger(t);
    const appender = new GroupCommitAppender(pool);
    const first = await appender.append(executed('silver'));
    await assert.rejects(
      appender.append(executed('gold', { workflow: { ...workflow, activityAttempt: 2 } })),
      (error: Error & { code?: string; conflict?: { existing: { seq: number }; recorded: { seq: number } } }) => {
        assert.equal(error.code, 'LEDGER_KEY_CONFLICT');
        assert.match(error.message, /wf\/op-1\/step\.executed\/0\/0 already holds a different record .*payload differ/);
        assert.equal(error.conflict?.existing.seq, first.seq);
        return true;
      },
    );
    const rows = await pool.query(`SELECT record FROM writ.records ORDER BY seq`);
    assert.deepEqual(
      rows.rows.map((r) => r.record.type),
      ['step.executed', 'ledger.key_conflict'],
    );
    const conflict = rows.rows[1].record;
    assert.equal(conflict.payload.idempotencyKey, 'wf/op-1/step.executed/0/0');
    assert.deepEqual(conflict.payload.differences, ['payload']);
    assert.equal(conflict.payload.existing.seq, first.seq);
    assert.equal(conflict.payload.existing.hash, first.hash);
    assert.match(conflict.payload.rejected.sha256, /^[0-9a-f]{64}$/);
    assert.equal(conflict.payload.rejected.record.payload.after.tier, 'gold');
    assert.match(conflict.idempotencyKey, /^ledger\//);
  });

  test('when the same event is appended again by a later attempt of the same run, it is a duplicate that returns the earlier record', async (t) => {
    const { pool } = await freshLedger(t);
    const appender = new GroupCommitAppender(pool);
    const first = await appender.append(executed('gold'));
    const again = await appender.append(
      executed('gold', { workflow: { ...workflow, activityAttempt: 3 }, occurredAt: '2030-01-01T00:00:00.000Z' }),
    );
    assert.equal(again.duplicate, true);
    assert.equal(again.seq, first.seq);
    assert.equal((again.earlier?.payload as { after: { tier: string } }).after.tier, 'gold');
  });

  test('when the same content arrives from another workflow run, it is a conflict: only the run that wrote a record is trusted with it', async (t) => {
    const { pool } = await freshLedger(t);
    const appender = new GroupCommitAppender(pool);
    await appender.append(executed('gold', { workflow: { ...workflow, runId: 'someone-else' } }));
    await assert.rejects(appender.append(executed('gold')), /workflow\.runId differ/);
  });

  test('when a caller offers a draft without a workflow under a workflow key, it is refused before anything is written', async (t) => {
    const { pool } = await freshLedger(t);
    const appender = new GroupCommitAppender(pool);
    await assert.rejects(
      appender.append(note(1, { type: 'ops.note', idempotencyKey: 'wf/op-1/step.executed/0/0' })),
      /reserved for records written by Writ's workflows/,
    );
    await assert.rejects(
      appender.append(note(1, { idempotencyKey: 'op-1/step.executed/0/0' })),
      /manual\.\* event is written by hand.*"manual\/"/,
    );
    await assert.rejects(
      appender.append(executed('gold', { idempotencyKey: 'op-1/step.executed/0/0' })),
      /must use a key under "wf\/"/,
    );
    // The keys a refusal's conflict is filed under can be guessed: no writer through Writ takes one first.
    await assert.rejects(
      appender.append(note(1, { type: 'ops.note', idempotencyKey: 'ledger/key-conflict/seq/1' })),
      /keys under "ledger\/" are for the ledger's own ledger\.\* records/,
    );
    await assert.rejects(
      appender.append(note(1, { type: 'ledger.key_conflict', idempotencyKey: 'conflict-1' })),
      /keys under "ledger\/" are for the ledger's own ledger\.\* records/,
    );
    assert.equal((await pool.query('SELECT count(*)::int AS n FROM writ.records')).rows[0].n, 0);
  });

  test("when a manual event asks for a workflow's key, it is filed in the manual key space", () => {
    for (const key of ['op-1/step.executed/0/0', 'wf/op-1/step.executed/0/0']) {
      const converted = manualEventToDraft({ type: 'note', actor: 'mallory', message: 'first!', idempotencyKey: key });
      assert.ok(converted.ok);
      assert.equal(converted.draft.idempotencyKey, `manual/${key}`);
    }
  });

  test('when writ record is asked to record a different event under a key already used, it exits 1 and the conflict is recorded', async (t) => {
    const ledger = await freshLedger(t);
    const env = { DATABASE_URL: ledger.url };
    const line = (message: string) =>
      JSON.stringify({ type: 'note', actor: 'dana', message, idempotencyKey: 'restart-1' });
    assert.equal((await runWrit(['record'], { env, input: line('restarted the sync') })).code, 0);
    const again = await runWrit(['record'], { env, input: line('restarted the sync') });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already recorded/);
    const other = await runWrit(['record'], { env, input: line('did nothing at all') });
    assert.equal(other.code, 1);
    assert.match(other.stderr, /manual\/restart-1 already holds a different record/);
    const types = (await ledger.pool.query(`SELECT event_type FROM writ.records ORDER BY seq`)).rows.map(
      (r) => r.event_type,
    );
    assert.deepEqual(types, ['manual.note', 'ledger.key_conflict']);
  });

  test('when a batch holds two units under one key, the later one is compared with the earlier: the same is a duplicate, a different one a recorded conflict', async (t) => {
    const { pool } = await freshLedger(t);
    // One batch in flight, so all three share it in the order they were offered.
    const appender = new GroupCommitAppender(pool, { maxInFlight: 1 });
    const [a, b, c] = await Promise.allSettled([
      appender.append(executed('gold')),
      appender.append(executed('gold')),
      appender.append(executed('silver')),
    ]);
    assert.equal(a.status, 'fulfilled');
    assert.equal(b.status, 'fulfilled');
    assert.equal(b.value.seq, a.value.seq);
    assert.equal(c.status, 'rejected');
    const types = (await pool.query(`SELECT event_type FROM writ.records ORDER BY seq`)).rows.map((r) => r.event_type);
    assert.deepEqual(types, ['step.executed', 'ledger.key_conflict']);
  });
});
