/**
 * Someone without standing tries to resolve an operation while the append that calls for a person
 * is still running, and that append outlasts the workflow task (the worker heartbeats the task at
 * 80% of its 10 s timeout). Before local activities took turns, the refusal's append overlapped the
 * main flow's and finished first; the worker then replayed the run in another order than it had
 * run, failed its tasks with non-determinism, and the next resolution was answered
 * WORKFLOW_NOT_READY, for good. CI met exactly that in test/report (session 23).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ReplayWorkerOptions } from '@temporalio/worker';
import { Worker } from '@temporalio/worker';
import proto from '@temporalio/proto';
import type { PreparedRecord } from '../../src/ledger/record.js';
import { withSpanSink } from '../../src/telemetry/worker-parts.js';
import { SCENARIOS } from '../replay/scenarios.js';
import { startWrit, waitForState, workflowBundle } from '../support/writ.js';

const { temporal } = proto;
const resolvedByHand = SCENARIOS.find((scenario) => scenario.name === 'resolved-manually')!;
// The resolution reaches the worker with the next workflow task, which the task heartbeat (every 8
// of the 10 s task timeout) starts while the append is held.
const NEXT_HEARTBEAT_AND_SOME_MS = 12_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A sealer that changes nothing but the timing of two appends. The call for a person is held until
 * the refusal of a resolution reaches the ledger too (or, when the refusal waits its turn, once
 * the next task heartbeat has passed); then half a second more. So, unless the resolution's local activities
 * wait their turn, both appends are in flight at once and the refusal is written first.
 */
function overlapping() {
  const at = { sent: 0, callReleased: 0, refusalArrived: 0 };
  const until = async (done: () => boolean) => {
    for (let waited = 0; !done() && waited < 60_000; waited += 20) await sleep(20);
  };
  const sealer = {
    async seal(records: PreparedRecord[]): Promise<PreparedRecord[]> {
      const types = records.map((prepared) => prepared.record.type);
      if (types.includes('operation.needs_intervention') && !at.callReleased) {
        await until(() => at.refusalArrived > 0 || (at.sent > 0 && Date.now() - at.sent > NEXT_HEARTBEAT_AND_SOME_MS));
        await sleep(500);
        at.callReleased = Date.now();
      } else if (types.includes('operation.resolve_refused') && !at.refusalArrived) {
        at.refusalArrived = Date.now();
      }
      return records;
    },
  };
  return { sealer, sent: () => (at.sent = Date.now()), overlapped: () => at.refusalArrived < at.callReleased };
}

test('resolved while the call for a person is still being appended: the run closes and its history replays', async (t) => {
  const { sealer, sent, overlapped } = overlapping();
  const { writ } = await startWrit(t, {
    ...resolvedByHand.options,
    appender: { sealer },
    // The call for a person is held past a second task heartbeat: longer than the harness's 10 s.
    settings: { activityTimeoutMs: 60_000 },
  });
  const { operationId, handle } = await writ.start({ ...resolvedByHand.request, operationId: 'held-append' });
  // The state moves before the append: the query answers once the task heartbeat has completed a task.
  await waitForState(writ, operationId, 'needs_intervention', 60_000);
  const byNobody = writ.resolve(operationId, { by: 'mallory', action: 'nothing', reason: 'no standing' });
  sent();
  assert.equal((await byNobody).accepted, false);
  const resolution = { by: 'dana', action: 'fixed by hand', reason: 'rollback refused' };
  assert.equal((await writ.resolve(operationId, resolution)).accepted, true);
  assert.equal((await writ.result(operationId)).outcome, 'resolved_manually');

  const history = await handle.fetchHistory();
  // A task that completed with nothing in it, right after one that did: the task heartbeat.
  const kinds = history.events!.map((event) => event.eventType);
  const {
    EVENT_TYPE_WORKFLOW_TASK_SCHEDULED: WORKFLOW_TASK_SCHEDULED,
    EVENT_TYPE_WORKFLOW_TASK_STARTED: WORKFLOW_TASK_STARTED,
    EVENT_TYPE_WORKFLOW_TASK_COMPLETED: WORKFLOW_TASK_COMPLETED,
  } = temporal.api.enums.v1.EventType;
  const empty = [WORKFLOW_TASK_COMPLETED, WORKFLOW_TASK_SCHEDULED, WORKFLOW_TASK_STARTED, WORKFLOW_TASK_COMPLETED];
  assert.ok(
    kinds.some((_, i) => empty.every((kind, j) => kinds[i + j] === kind)),
    'the held append outlasted a workflow task',
  );
  const replay: ReplayWorkerOptions = { workflowBundle: await workflowBundle() };
  await Worker.runReplayHistory(withSpanSink(replay, undefined), history, operationId);
  assert.equal(overlapped(), false, "the refusal's append started only once the call for a person was written");
});
