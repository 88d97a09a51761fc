import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { TestContext } from 'node:test';
import { describe, test } from 'node:test';
import type pg from 'pg';
import { postgresConnector } from '../../src/connectors/postgres/index.js';
import { verifyStoredLedger } from '../../src/ledger/reader.js';
import { runWrit } from '../support/cli.js';
import { withHooks } from '../support/hooked-connector.js';
import { plantAsWriter } from '../support/planted.js';
import { ledgerEvents, startWrit, updateTier, waitForState } from '../support/writ.js';

const LIFECYCLE = [
  'operation.planned/-/0',
  'policy.decided/-/0',
  'operation.validated/-/0',
  'step.executing/0/0',
  'step.executed/0/0',
  'step.verifying/0/0',
  'step.verified/0/0',
  'operation.closed/-/0',
];

/** Every spelling of an operation's lifecycle keys an insider could guess: today's and the namespaced one. */
function guessedKeys(operationId: string, events = LIFECYCLE): string[] {
  return events.flatMap((event) => [`${operationId}/${event}`, `wf/${operationId}/${event}`]);
}

/** A record planted by an insider holding writ_writer, acting as alice. */
function plant(pool: pg.Pool, record: Record<string, unknown>): Promise<number> {
  return plantAsWriter(pool, { actor: { id: 'alice', kind: 'user', groups: ['sales-ops'] }, ...record });
}

/** A note planted under someone else's key: content that is not the record the key is for. */
function plantedNote(operationId: string, key: string) {
  return {
    idempotencyKey: key,
    type: 'manual.note',
    operationId,
    stepIndex: null,
    state: null,
    workflow: null,
    payload: { message: 'mine now' },
  };
}

/** An operation started after writ_writer planted a note under each of its `keys`. */
async function startedOverNotes(t: TestContext, keys: string[], options: Parameters<typeof startWrit>[1] = {}) {
  const { writ, ledger } = await startWrit(t, { forgesRecords: true, ...options });
  const operationId = `op-${randomUUID()}`;
  for (const key of guessedKeys(operationId, keys)) await plant(ledger.pool, plantedNote(operationId, key));
  await writ.start(updateTier({ operationId }));
  return { writ, ledger, operationId };
}

interface ConflictRecord {
  payload: {
    idempotencyKey: string;
    existing: { seq: number; hash: string };
    rejected: { sha256: string; record: { type: string; payload: { after: { tier: string } } } };
  };
}

async function conflicts(pool: pg.Pool, operationId: string): Promise<ConflictRecord[]> {
  const rows = await pool.query(
    `SELECT record FROM writ.records WHERE event_type = 'ledger.key_conflict' AND operation_id = $1 ORDER BY seq`,
    [operationId],
  );
  return rows.rows.map((row) => row.record);
}

describe('no record can be suppressed or pre-empted', () => {
  test('when a writ record user files notes under every key of an operation before it runs, every record of the operation is still written', async (t) => {
    const { writ, ledger } = await startWrit(t);
    const operationId = `op-${randomUUID()}`;
    const input = guessedKeys(operationId)
      .map((idempotencyKey) =>
        JSON.stringify({ type: 'note', actor: 'mallory', message: 'nothing to see', operationId, idempotencyKey }),
      )
      .join('\n');
    const recorded = await runWrit(['record'], { env: { DATABASE_URL: ledger.url }, input });
    assert.equal(recorded.code, 0, recorded.stderr);

    await writ.start(updateTier({ operationId }));
    assert.equal((await writ.result(operationId)).outcome, 'succeeded');
    const events = await ledgerEvents(ledger, operationId);
    assert.deepEqual(
      events.filter((e) => !e.type.startsWith('manual.')).map((e) => e.type),
      [
        'operation.planned',
        'policy.decided',
        'operation.validated',
        'step.executing',
        'step.executed',
        'step.verifying',
        'step.verified',
        'operation.closed',
      ],
    );
    assert.equal(
      (events.find((e) => e.type === 'step.executed')!.payload.after as { tier: string }).tier,
      'gold',
      'the record of the real write is there',
    );
    const notes = await ledger.pool.query<{ idempotency_key: string }>(
      `SELECT idempotency_key FROM writ.records WHERE event_type = 'manual.note'`,
    );
    assert.equal(notes.rows.length, guessedKeys(operationId).length);
    for (const { idempotency_key: key } of notes.rows)
      assert.match(key, /^manual\//, 'a hand-written event is filed in the manual key space');
  });

  test('when writ_writer inserts a record under the step.executed key before the operation runs, the conflict is recorded with the real record, and the write is undone rather than called done', async (t) => {
    // The planted record gives the operation a state its closing path never passed through.
    const { writ, ledger } = await startWrit(t, { forgesRecords: true });
    const operationId = `op-${randomUUID()}`;
    const planted = new Map<string, number>();
    for (const key of guessedKeys(operationId, ['step.executed/0/0'])) {
      planted.set(
        key,
        await plant(ledger.pool, {
          idempotencyKey: key,
          type: 'step.executed',
          operationId,
          stepIndex: 0,
          state: 'executed',
          workflow: { workflowId: operationId, runId: 'planted', activityAttempt: 1 },
          payload: { dryRun: false, before: { tier: 'silver' }, after: { tier: 'silver' }, detail: {} },
        }),
      );
    }

    await writ.start(updateTier({ operationId }));
    const result = await writ.result(operationId);
    assert.notEqual(result.outcome, 'succeeded', 'an operation whose record was refused does not close as if recorded');
    const [conflict] = await conflicts(ledger.pool, operationId);
    assert.ok(conflict, 'the conflict is on the record');
    assert.equal(
      planted.get(conflict.payload.idempotencyKey),
      conflict.payload.existing.seq,
      'it names the planted record that held the key',
    );
    assert.match(conflict.payload.existing.hash, /^[0-9a-f]{64}$/);
    assert.match(conflict.payload.rejected.sha256, /^[0-9a-f]{64}$/);
    const [verdict] = await verifyStoredLedger(ledger.pool);
    assert.ok(
      verdict!.illegalPaths.some((f) => f.operationId === operationId),
      'writ verify names the operation the planted record contradicts',
    );
    assert.equal(conflict.payload.rejected.record.type, 'step.executed');
    assert.equal(
      conflict.payload.rejected.record.payload.after.tier,
      'gold',
      'what was really written is in the evidence',
    );
    assert.equal(
      (await ledger.pool.query('SELECT tier FROM accounts WHERE id = 42')).rows[0].tier,
      'silver',
      'the write whose record was refused was rolled back',
    );
  });

  test('when writ_writer also plants a record under the step.execution_failed key, the refused report does not stop the write being undone and the operation closing', async (t) => {
    // The workflow reports the refused step.executed as the step's failure; that report is refused
    // too. Before, the workflow failed there: the write stayed, unrolled back, and nothing closed.
    const { writ, ledger, operationId } = await startedOverNotes(t, ['step.executed/0/0', 'step.execution_failed/0/0']);
    const result = await writ.result(operationId);
    assert.notEqual(result.outcome, 'succeeded');
    const refused = (await conflicts(ledger.pool, operationId)).map((c) => c.payload.rejected.record.type);
    assert.deepEqual(refused, ['step.executed', 'step.execution_failed'], 'both refusals are on the record');
    assert.equal(
      (await ledger.pool.query('SELECT tier FROM accounts WHERE id = 42')).rows[0].tier,
      'silver',
      'the write whose record was refused was rolled back',
    );
    const types = (await ledgerEvents(ledger, operationId)).map((e) => e.type);
    assert.equal(types.at(-1), 'operation.closed', types.join(', '));
  });

  test('when writ_writer plants records under the step.verifying and step.verification_failed keys, the write is still undone and the operation closed', async (t) => {
    const keys = ['step.verifying/0/0', 'step.verification_failed/0/0'];
    const { writ, ledger, operationId } = await startedOverNotes(t, keys);
    const result = await writ.result(operationId);
    assert.equal(result.outcome, 'rolled_back');
    const refused = (await conflicts(ledger.pool, operationId)).map((c) => c.payload.rejected.record.type);
    assert.deepEqual(refused, ['step.verifying', 'step.verification_failed'], 'both refusals are on the record');
    assert.equal((await ledger.pool.query('SELECT tier FROM accounts WHERE id = 42')).rows[0].tier, 'silver');
  });

  test('when writ_writer plants records under every key of the undo path, the operation still calls for a person, and closes when resolved', async (t) => {
    const undoPath = [
      'step.verifying/0/0',
      'step.verification_failed/0/0',
      'step.compensating/0/0',
      'step.compensation_failed/0/0',
      'operation.compensation_failed/-/0',
      'operation.needs_intervention/-/0',
      'operation.resolved/-/0',
      'operation.closed/-/0',
    ];
    const approvers = { approvers: [{ id: 'dana', groups: ['oncall'] }] };
    const { writ, ledger, operationId } = await startedOverNotes(t, undoPath, { approvers });
    await waitForState(writ, operationId, 'needs_intervention', 60_000);
    // The compensation could not even record that it began, so the write stands for a person to undo.
    assert.equal((await ledger.pool.query('SELECT tier FROM accounts WHERE id = 42')).rows[0].tier, 'gold');
    const answer = await writ.resolve(operationId, { by: 'dana', action: 'set tier back', reason: 'planted keys' });
    assert.equal(answer.accepted, true);
    assert.equal((await writ.result(operationId)).outcome, 'resolved_manually');
    const refused = (await conflicts(ledger.pool, operationId)).map((c) => c.payload.rejected.record.type);
    assert.deepEqual(
      refused,
      [
        'step.verifying',
        'step.verification_failed',
        'step.compensating',
        'step.compensation_failed',
        'operation.compensation_failed',
        'operation.resolved',
        'operation.closed',
      ],
      'every refused record is on the ledger as a conflict',
    );
  });

  test('when writ_writer inserts records under every key of an operation before it runs, nothing is written and the refused plan is on the record', async (t) => {
    const { writ, ledger } = await startWrit(t);
    const operationId = `op-${randomUUID()}`;
    for (const key of guessedKeys(operationId, [...LIFECYCLE, 'operation.validation_failed/-/0']))
      await plant(ledger.pool, plantedNote(operationId, key));
    await writ.start(updateTier({ operationId }));
    const outcome = await writ.result(operationId).then(
      (result) => result.outcome,
      (error: Error) => `workflow failed: ${error.message}`,
    );
    assert.notEqual(outcome, 'succeeded');
    const [conflict] = await conflicts(ledger.pool, operationId);
    assert.equal(conflict?.payload.idempotencyKey, `wf/${operationId}/operation.planned/-/0`);
    assert.equal(conflict?.payload.rejected.record.type, 'operation.planned', 'the real plan is in the evidence');
    assert.equal(
      (await ledger.pool.query('SELECT tier FROM accounts WHERE id = 42')).rows[0].tier,
      'silver',
      'nothing was written under a plan the ledger lacks',
    );
  });

  test('when writ_writer plants a step.executing between a failed attempt and its retry, the retry does not take the planted state for what to restore', async (t) => {
    const operationId = `op-${randomUUID()}`;
    let ledgerPool: pg.Pool | null = null;
    const { writ, ledger } = await startWrit(t, {
      connectors: (testLedger) => [
        withHooks(postgresConnector({ pool: testLedger.pool, allowLedgerDatabase: true }), {
          // Snapshot 1 is validation's, 2 the first attempt of the step: it fails before recording
          // anything, and the insider takes that moment to fill the key in.
          beforeSnapshot: async (nth) => {
            if (nth !== 2) return;
            const real = await testLedger.pool.query(
              `SELECT record FROM writ.records WHERE operation_id = $1 AND event_type = 'operation.validated'`,
              [operationId],
            );
            const version = real.rows[0].record.payload.targetVersions[0];
            for (const key of guessedKeys(operationId, ['step.executing/0/0'])) {
              await plant(ledgerPool!, {
                idempotencyKey: key,
                type: 'step.executing',
                operationId,
                stepIndex: 0,
                state: 'executing',
                workflow: { workflowId: operationId, runId: 'planted', activityAttempt: 1 },
                payload: {
                  target: null,
                  dryRun: false,
                  before: { version, state: { id: 42, name: 'Acme', tier: 'platinum', balance: '1000000' } },
                },
              });
            }
            throw new Error('connection reset by peer');
          },
        }),
      ],
    });
    ledgerPool = ledger.pool;
    await writ.start(updateTier({ operationId }));
    const result = await writ.result(operationId);
    const own = await ledger.pool.query(
      `SELECT record FROM writ.records WHERE operation_id = $1 AND event_type <> 'ledger.key_conflict' AND record -> 'workflow' ->> 'runId' IS DISTINCT FROM 'planted'`,
      [operationId],
    );
    for (const { record } of own.rows) {
      assert.doesNotMatch(
        JSON.stringify(record.payload),
        /platinum/,
        `${record.type} does not carry the planted state as the operation's own`,
      );
    }
    assert.notEqual(result.outcome, 'succeeded');
    assert.ok(
      (await conflicts(ledger.pool, operationId)).length >= 1,
      'the planted record is named in a recorded conflict',
    );
    assert.equal(
      (await ledger.pool.query('SELECT tier FROM accounts WHERE id = 42')).rows[0].tier,
      'silver',
      'nothing was written under a planted before',
    );
  });

  test("when a raw Temporal client starts governedWrite under a workflow id other than the request's operationId, the operation is refused and the refusal recorded under the workflow id only", async (t) => {
    const { client, taskQueue, ledger } = await startWrit(t);
    const victim = `op-${randomUUID()}`;
    const workflowId = `op-${randomUUID()}`;
    const request = {
      ...updateTier({ operationId: victim }),
      mode: 'execute',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    };
    const handle = await client.workflow.start('governedWrite', {
      taskQueue,
      workflowId,
      args: [request, { activityTimeoutMs: 10_000 }],
    });
    const result = (await handle.result()) as { outcome: string; operationId: string };
    assert.equal(result.outcome, 'invalid');
    assert.equal(result.operationId, workflowId);
    assert.deepEqual(
      (await ledgerEvents(ledger, victim)).map((e) => e.type),
      [],
      "nothing was filed in the claimed operation's name",
    );
    const events = await ledgerEvents(ledger, workflowId);
    assert.deepEqual(
      events.map((e) => e.type),
      ['operation.planned', 'operation.validation_failed', 'operation.closed'],
    );
    assert.match(String(events[0]!.payload.problem), /operationId .* is not this operation's workflow id/);
    assert.equal(events[0]!.payload.claimedOperationId, victim);
    assert.equal((await ledger.pool.query('SELECT tier FROM accounts WHERE id = 42')).rows[0].tier, 'silver');
  });
});
