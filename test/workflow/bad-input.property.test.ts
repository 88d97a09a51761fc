import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { InvalidRequestError } from '../../src/client.js';
import { ledgerEvents, startWrit, updateTier, waitForState } from '../support/writ.js';
import { ASSERTED_IDENTITIES } from '../support/identities.js';

const valid = updateTier();

/** A valid request with one field replaced by junk, so each case has a known culprit. */
const corrupted = fc.oneof(
  fc.record({ field: fc.constant('actor'), value: fc.anything() }),
  fc.record({
    field: fc.constant('intent'),
    value: fc.oneof(
      fc.constant(''),
      fc.constant('   '),
      fc.integer(),
      fc.constant(null),
      // Too long once trimmed, as the request schema measures it: the ends are not spaces.
      fc.string({ minLength: 1999, maxLength: 2098 }).map((s) => `x${s}x`),
    ),
  }),
  fc.record({
    field: fc.constant('steps'),
    value: fc.oneof(
      fc.constant([]),
      fc.anything().filter((v) => !Array.isArray(v)),
    ),
  }),
  fc.record({ field: fc.constant('mode'), value: fc.string().filter((s) => s !== 'execute' && s !== 'dry-run') }),
  fc.record({ field: fc.constant('traceparent'), value: fc.string() }),
  fc.record({
    field: fc.constant('operationId'),
    value: fc.oneof(
      fc.constant(''),
      fc.string().map((s) => `bad id ${s}`),
      fc.integer(),
    ),
  }),
  fc.record({
    field: fc.constant('labels'),
    value: fc.dictionary(
      fc.string().map((s) => `Upper ${s}`),
      fc.string(),
      { minKeys: 1 },
    ),
  }),
);

describe('bad input, thousands of cases', () => {
  test('malformed requests are refused naming the field, and no workflow starts', async (t) => {
    const { writ, client, taskQueue } = await startWrit(t);
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(corrupted, async ({ field, value }) => {
        const request = { ...valid, [field]: value };
        try {
          await writ.start(request as never);
        } catch (error) {
          assert.ok(error instanceof InvalidRequestError, `a clear refusal, not ${(error as Error).message}`);
          assert.match(error.message, new RegExp(`request refused: .*\\b${field}\\b`));
          refused++;
          return;
        }
        assert.fail(`a request with a bad ${field} (${JSON.stringify(value)}) was accepted`);
      }),
      { numRuns: 3000 },
    );
    assert.equal(refused, 3000);
    const started = client.workflow.list({ query: `TaskQueue = '${taskQueue}'` });
    for await (const _ of started) assert.fail('no workflow was started');
  });

  test('malformed approvals are stopped by the validator; well-formed odd ones are judged and recorded', async (t) => {
    const policy = {
      id: 'p',
      identity: ASSERTED_IDENTITIES,
      rules: [{ name: 'review', risk: 'high' as const, approvals: { required: 1 } }],
    };
    const { writ, ledger } = await startWrit(t, { policy, approvers: { approvers: [{ id: 'bob', groups: [] }] } });
    const { operationId, handle } = await writ.start(updateTier());
    await waitForState(writ, operationId, 'awaiting_approval');
    await fc.assert(
      fc.asyncProperty(fc.anything(), async (payload) => {
        fc.pre(!(typeof payload === 'object' && payload !== null && 'approver' in payload));
        await assert.rejects(
          handle.executeUpdate('approve', { args: [payload] }),
          (error: Error) =>
            error.name === 'WorkflowUpdateFailedError' &&
            /approver|reason|digest|payload|expected/i.test((error.cause as Error)?.message ?? ''),
        );
      }),
      { numRuns: 150 },
    );
    const oddButWellFormed = fc.record({
      approver: fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s !== 'bob' && s !== 'alice'),
      reason: fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim().length > 0),
      digest: fc.stringMatching(/^[0-9a-f]{64}$/),
    });
    let judged = 0;
    await fc.assert(
      fc.asyncProperty(oddButWellFormed, async (attempt) => {
        const answer = await writ.approve(operationId, attempt);
        assert.equal(answer.accepted, false);
        judged++;
      }),
      { numRuns: 40 },
    );
    const refusals = (await ledgerEvents(ledger, operationId)).filter((e) => e.type === 'approval.refused');
    assert.equal(
      refusals.length,
      judged,
      'every well-formed refusal is in the ledger; malformed payloads never reached it',
    );
    assert.equal((await writ.state(operationId)).state, 'awaiting_approval', 'nothing crashed the operation');
    await writ.approve(operationId, { approver: 'bob', reason: 'done' });
    assert.equal((await writ.result(operationId)).outcome, 'succeeded');
  });
});
