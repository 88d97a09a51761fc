import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WRIT_SEARCH_ATTRIBUTES } from '../../src/model/search-attributes.js';
import { startWrit, updateTier } from '../support/writ.js';

test('operations started from one W3C trace share its trace-id as correlation id, in every record and in the Web UI', async (t) => {
  const { ledger, writ } = await startWrit(t);
  const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const first = await writ.start(updateTier({ traceparent }));
  const second = await writ.start(
    updateTier({
      traceparent,
      steps: [
        {
          connector: 'postgres',
          action: 'update',
          target: 'public.accounts/43',
          params: { set: { tier: 'platinum' } },
        },
      ],
    }),
  );
  const unrelated = await writ.start(
    updateTier({
      steps: [
        { connector: 'postgres', action: 'update', target: 'public.accounts/43', params: { set: { tier: 'silver' } } },
      ],
    }),
  );
  await Promise.all([first, second].map((op) => writ.result(op.operationId)));
  await writ.result(unrelated.operationId);

  assert.equal(first.correlationId, '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.equal(second.correlationId, first.correlationId);
  assert.notEqual(
    unrelated.correlationId,
    first.correlationId,
    'a request without a traceparent gets a trace of its own',
  );
  const records = await ledger.pool.query(
    `SELECT operation_id, correlation_id, record->>'traceparent' AS traceparent FROM writ.records WHERE correlation_id = $1`,
    [first.correlationId],
  );
  assert.deepEqual(
    [...new Set(records.rows.map((r) => r.operation_id))].sort(),
    [first.operationId, second.operationId].sort(),
  );
  // Each record carries the caller's trace and flags; the parent-id is the span of the activity
  // call that wrote it (test/workflow/trace-propagation.test.ts shows it came in a header).
  assert.ok(
    records.rows.every(
      (r) => r.traceparent.startsWith('00-4bf92f3577b34da6a3ce929d0e0e4736-') && r.traceparent.endsWith('-01'),
    ),
    "every record carries the caller's trace-id and flags",
  );
  assert.equal(
    (await first.handle.describe()).typedSearchAttributes.get(WRIT_SEARCH_ATTRIBUTES.correlationId),
    first.correlationId,
  );
});
