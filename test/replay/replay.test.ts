import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import proto from '@temporalio/proto';

const { temporal } = proto;
import type { ReplayWorkerOptions } from '@temporalio/worker';
import { Worker } from '@temporalio/worker';
import { withSpanSink } from '../../src/telemetry/worker-parts.js';
import { workflowBundle } from '../support/writ.js';
import { SCENARIOS } from './scenarios.js';

/**
 * Beside the scenarios' histories, histories of failures that earlier workflow code recorded and
 * today's must replay to the same end. v3-failed-on-unrequested-cancellation: an operation that the
 * workflow code up to commit d4c5434 failed when the worker cancelled its local activity during an
 * eviction (recorded by test/workflow/worker-eviction.test.ts with that code). v1-v3 hold one
 * search-attribute upsert per state change; v4 (npm run record-histories with WRIT_HISTORY_TAG=v4)
 * the upserts merged per activation, which replay only with the merging on; v5 one upsert per state
 * change again, with no merging marker (search-attribute-upserts.ts says why); v6 local activities
 * one at a time, marked in the first task (local-activity-turns.ts says why); v7 every behaviour
 * change decided by one marker in the first task, none later (run-patches.ts says why).
 */
const dir = fileURLToPath(new URL('../../../test/replay/histories/', import.meta.url));

test("every recorded history replays against today's workflow code without non-determinism", async () => {
  const files = readdirSync(dir)
    .filter((file) => file.endsWith('.history.bin'))
    .sort();
  const recorded = new Set(files.map((file) => file.replace(/^v\d+-/, '').replace(/\.history\.bin$/, '')));
  for (const scenario of SCENARIOS)
    assert.ok(recorded.has(scenario.name), `a history of ${scenario.name} is committed`);
  const histories = files.map((file) => ({
    workflowId: file,
    history: temporal.api.history.v1.History.decode(readFileSync(`${dir}${file}`)),
  }));
  const failures: string[] = [];
  let replayed = 0;
  // The bundle holds the OpenTelemetry interceptors: their span sink, which drops the spans.
  const options: ReplayWorkerOptions = { workflowBundle: await workflowBundle() };
  for await (const result of Worker.runReplayHistories(withSpanSink(options, undefined), histories)) {
    replayed++;
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  assert.equal(replayed, files.length);
  assert.deepEqual(failures, []);
});
