import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freePorts } from '../../src/net/ports.js';
import { WORKER_MEMORY_ENV } from '../../src/worker/memory-env.js';
import { maxCachedWorkflowsFromEnv } from '../../src/worker/workflow-cache.js';
import { runWrit } from '../support/cli.js';

// Nothing answers on these ports: the worker stops at its first connection, after the start-up warnings.
async function workerStderr(env: Record<string, string | undefined>): Promise<{ code: number | null; stderr: string }> {
  const [temporal, postgres] = (await freePorts(2)) as [number, number];
  const result = await runWrit(['worker'], {
    env: {
      ...env,
      TEMPORAL_ADDRESS: `127.0.0.1:${temporal}`,
      DATABASE_URL: `postgres://nobody@127.0.0.1:${postgres}/none`,
    },
  });
  return { code: result.code, stderr: result.stderr };
}

test('writ worker without a heap ceiling or arena limit says so, and names the settings to use', async () => {
  const { code, stderr } = await workerStderr({ NODE_OPTIONS: '', MALLOC_ARENA_MAX: '' });
  assert.notEqual(code, 0);
  assert.match(stderr, /the worker's V8 heap may grow to \d+ MB/);
  assert.ok(stderr.includes(`NODE_OPTIONS="${WORKER_MEMORY_ENV.NODE_OPTIONS}"`), stderr);
  assert.match(stderr, /MALLOC_ARENA_MAX is unset/);
});

test('writ worker with the production memory settings starts without those warnings', async () => {
  const { code, stderr } = await workerStderr({ ...WORKER_MEMORY_ENV });
  assert.notEqual(code, 0, 'nothing to connect to: the worker still stops');
  assert.doesNotMatch(stderr, /V8 heap may grow|MALLOC_ARENA_MAX is unset/);
});

test('WRIT_MAX_CACHED_WORKFLOWS: a bounded default above the operations a worker executes at once, and bad values named', () => {
  assert.equal(maxCachedWorkflowsFromEnv(undefined), 200);
  assert.equal(maxCachedWorkflowsFromEnv('0'), 0);
  assert.equal(maxCachedWorkflowsFromEnv(' 500 '), 500);
  for (const bad of ['1', '-3', '2.5', 'lots', '1e3'])
    assert.throws(
      () => maxCachedWorkflowsFromEnv(bad),
      /WRIT_MAX_CACHED_WORKFLOWS must be 0 \(no cache\) or a whole number of at least 2/,
      bad,
    );
});
