import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { chainInAttempt } from '../../src/activities/chain-in-attempt.js';

function countingChains(answer: (operationId: string, asked: number) => Promise<string>) {
  const asked: string[] = [];
  return {
    asked,
    forOperation: (operationId: string) => {
      asked.push(operationId);
      return answer(operationId, asked.length);
    },
  };
}

test("one activity attempt asks the ledger for an operation's chain once, and every caller gets that answer", async () => {
  const chains = countingChains(async (id, n) => `${id}-chain-${n}`);
  const env = new MockActivityEnvironment();
  const answers = await env.run(async () => [
    await chainInAttempt(chains, 'op-1'),
    await chainInAttempt(chains, 'op-1'),
    await chainInAttempt(chains, 'op-2'),
    await chainInAttempt(chains, 'op-1'),
  ]);
  assert.deepEqual(answers, ['op-1-chain-1', 'op-1-chain-1', 'op-2-chain-2', 'op-1-chain-1']);
  assert.deepEqual(chains.asked, ['op-1', 'op-2']);
  // The next attempt (a retry, or the next activity) asks again: the first record may be written by then.
  assert.equal(await new MockActivityEnvironment().run(() => chainInAttempt(chains, 'op-1')), 'op-1-chain-3');
});

test('a lookup that failed is asked again within the attempt, and outside an activity every call asks', async () => {
  const chains = countingChains(async (id, n) => {
    if (n === 1) throw new Error('connection reset');
    return `${id}-chain-${n}`;
  });
  const env = new MockActivityEnvironment();
  const answers = await env.run(async () => [
    await chainInAttempt(chains, 'op-1').catch((error: Error) => error.message),
    await chainInAttempt(chains, 'op-1'),
    await chainInAttempt(chains, 'op-1'),
  ]);
  assert.deepEqual(answers, ['connection reset', 'op-1-chain-2', 'op-1-chain-2']);
  assert.equal(await chainInAttempt(chains, 'op-1'), 'op-1-chain-3');
  assert.equal(await chainInAttempt(chains, 'op-1'), 'op-1-chain-4');
});
