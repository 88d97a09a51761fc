import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { inParallel } from '../../src/evidence/in-parallel.js';

describe('inParallel', () => {
  test('runs every item, never more than the limit at once, starting them in order', async () => {
    const started: number[] = [];
    let running = 0;
    let most = 0;
    await inParallel([...Array(40).keys()], 6, async (item) => {
      started.push(item);
      most = Math.max(most, ++running);
      await sleep(item % 3);
      running--;
    });
    assert.deepEqual(started, [...Array(40).keys()]);
    assert.equal(most, 6);
  });

  test('after a failure starts nothing new, waits for what is in flight, then throws the first failure', async () => {
    const started: number[] = [];
    const finished: number[] = [];
    const run = inParallel([...Array(20).keys()], 4, async (item) => {
      started.push(item);
      if (item === 5) throw new Error('item 5 failed');
      await sleep(5);
      finished.push(item);
    });
    await assert.rejects(run, /item 5 failed/);
    assert.ok(started.length < 20, `started ${started.length} of 20`);
    // Everything that started and did not fail had finished before the failure was thrown.
    assert.deepEqual(
      [...finished].sort((a, b) => a - b),
      started.filter((item) => item !== 5).sort((a, b) => a - b),
    );
  });

  test('an empty list does nothing', async () => {
    await inParallel([], 4, () => Promise.reject(new Error('never called')));
  });
});
