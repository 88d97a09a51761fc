import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { activityChain } from '../../src/activities/operation-chain.js';
import { recordedOperationId } from '../../src/activities/recorded-operation-id.js';
import { chainRouter } from '../../src/ledger/chain-router.js';

// A workflow started by hand with an id that cannot be an operation id is refused, and its refusal is
// filed under a name derived from that id. The governance records its decision rests on must go on
// the refusal's chain, or a bundle (one chain) of the refused operation lacks them.
test('a malformed workflow id: governance goes on the chain of the refusal record, not of the raw id', async () => {
  const router = chainRouter('hash:16', 'default');
  const chains = { home: router.home, forOperation: async (operationId: string) => router.chainFor(operationId) };
  const malformed = Array.from({ length: 50 }, (_, i) => `not an id #${i}`).find(
    (id) => router.chainFor(id) !== router.chainFor(recordedOperationId(id)),
  );
  assert.ok(malformed, 'every sample hashed to the same chain both ways; the test would prove nothing');
  const refusalChain = router.chainFor(recordedOperationId(malformed));
  const env = new MockActivityEnvironment({
    workflowExecution: { workflowId: malformed, runId: 'run-1' },
  } as ConstructorParameters<typeof MockActivityEnvironment>[0]);
  assert.equal(await env.run(activityChain(chains)), refusalChain);
  // A well-formed id is its own operation id, so nothing changes for every other operation.
  const wellFormed = new MockActivityEnvironment({
    workflowExecution: { workflowId: 'op-42', runId: 'run-1' },
  } as ConstructorParameters<typeof MockActivityEnvironment>[0]);
  assert.equal(await wellFormed.run(activityChain(chains)), router.chainFor('op-42'));
});
