import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WRIT_SEARCH_ATTRIBUTES } from '../../src/model/search-attributes.js';
import { runWrit } from '../support/cli.js';
import { ledgerEvents, startWrit, updateTier } from '../support/writ.js';

describe('a governed write with no approval needed', () => {
  test('executes, verifies, closes, and the ledger holds exactly the expected events in order', async (t) => {
    const { ledger, writ } = await startWrit(t);
    const started = await writ.start(updateTier());
    const result = await writ.result(started.operationId);
    assert.equal(result.outcome, 'succeeded', JSON.stringify(await ledgerEvents(ledger, started.operationId), null, 1));

    const row = await ledger.pool.query('SELECT tier FROM accounts WHERE id = 42');
    assert.equal(row.rows[0].tier, 'gold');

    const events = await ledgerEvents(ledger, started.operationId);
    assert.deepEqual(
      events.map((e) => `${e.type}:${e.state ?? '-'}`),
      [
        'operation.planned:planned',
        'policy.decided:-',
        'operation.validated:validated',
        'step.executing:executing',
        'step.executed:executed',
        'step.verifying:verifying',
        'step.verified:verified',
        'operation.closed:closed',
      ],
    );
    const executed = events.find((e) => e.type === 'step.executed')!;
    assert.equal((executed.payload.before as { tier: string }).tier, 'silver');
    assert.equal((executed.payload.after as { tier: string }).tier, 'gold');
    assert.equal(events.at(-1)!.payload.outcome, 'succeeded');

    const records = await ledger.pool.query(
      "SELECT DISTINCT record->>'correlationId' AS c, split_part(record->>'traceparent', '-', 2) AS trace FROM writ.records WHERE operation_id = $1",
      [started.operationId],
    );
    assert.equal(records.rows.length, 1, 'every record carries the same correlation id and trace-id');
    assert.equal(records.rows[0].c, started.correlationId);
    assert.equal(records.rows[0].trace, started.correlationId);

    const verify = await runWrit(['verify'], { env: { DATABASE_URL: ledger.url } });
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  });

  test('the state query and the search attributes say where it stands', async (t) => {
    const { writ } = await startWrit(t);
    const started = await writ.start(updateTier({ labels: { env: 'test' } }));
    await writ.result(started.operationId);
    const state = await writ.state(started.operationId);
    assert.equal(state.state, 'closed');
    assert.equal(state.outcome, 'succeeded');
    assert.deepEqual(
      state.transitions.map((tr) => tr.to),
      ['planned', 'validated', 'executing', 'executed', 'verifying', 'verified', 'closed'],
    );
    assert.equal(state.steps[0]!.status, 'verified');
    assert.equal(state.envelope?.policy.risk, 'low');
    assert.match(state.envelope!.paramsHash, /^[0-9a-f]{64}$/);
    const description = await started.handle.describe();
    assert.equal(description.typedSearchAttributes.get(WRIT_SEARCH_ATTRIBUTES.state), 'closed:succeeded');
    assert.equal(description.typedSearchAttributes.get(WRIT_SEARCH_ATTRIBUTES.actor), 'alice');
    assert.equal(description.typedSearchAttributes.get(WRIT_SEARCH_ATTRIBUTES.correlationId), started.correlationId);
    assert.equal(description.typedSearchAttributes.get(WRIT_SEARCH_ATTRIBUTES.risk), 'low');
    assert.match(
      (await description.staticSummary()) ?? '',
      /update postgres:public\.accounts\/42 for alice: raise tier/,
    );
  });

  test('a duplicate submit with the same operationId is one operation; a different write under it is refused', async (t) => {
    const { ledger, writ } = await startWrit(t);
    const first = await writ.start(updateTier({ operationId: 'op-dup-1' }));
    await writ.result(first.operationId);
    const second = await writ.start(updateTier({ operationId: 'op-dup-1' }));
    assert.equal(second.duplicate, true);
    assert.equal(second.correlationId, first.correlationId);
    await assert.rejects(writ.start(updateTier({ operationId: 'op-dup-1' }, 'platinum')), (error: Error) => {
      assert.equal(error.name, 'OperationConflictError');
      assert.match(error.message, /operation op-dup-1 already exists and asked for something else \(steps differ\)/);
      return true;
    });
    const planned = await ledger.pool.query(
      `SELECT count(*)::int AS n FROM writ.records WHERE operation_id = 'op-dup-1' AND event_type = 'operation.planned'`,
    );
    assert.equal(planned.rows[0].n, 1);
    assert.equal((await ledger.pool.query('SELECT tier FROM accounts WHERE id = 42')).rows[0].tier, 'gold');
  });
});
