/**
 * A decision sent while the operation's workflow task is failing (a broken worker deployed, then
 * rolled back; a task the server refused under load) is the case Temporal answers with
 * WorkflowNotReady. The approver's decision must still be taken once the workflow is healthy, and
 * taken once; if it never becomes healthy, the caller is told so and nothing is recorded.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import proto from '@temporalio/proto';

const { temporal } = proto;
import { hasCode } from '../../src/model/errors.js';
import { WritClient } from '../../src/client.js';
import { ASSERTED_IDENTITIES } from '../support/identities.js';
import type { WritHarness } from '../support/writ.js';
import { ledgerEvents, startWrit, updateTier, waitForState } from '../support/writ.js';

const policy = {
  id: 'not-ready-policy',
  identity: ASSERTED_IDENTITIES,
  rules: [
    {
      name: 'tier-changes-need-a-manager',
      match: { connector: 'postgres', target: 'public.accounts/*' },
      risk: 'high',
      approvals: { required: 1, fromGroups: ['managers'], windowMs: 300_000 },
    },
  ],
};
const approvers = { approvers: [{ id: 'bob', groups: ['managers'] }] };

/**
 * Plays a broken worker with the raw gRPC API: takes the operation's next two workflow tasks and
 * fails them, which leaves its third attempt pending and Temporal refusing updates until it passes.
 */
async function failTwoWorkflowTasks(harness: WritHarness, operationId: string): Promise<void> {
  const service = harness.client.connection.workflowService;
  const namespace = harness.client.options.namespace;
  // A signal no handler takes is buffered by the SDK: it only makes Temporal schedule a task.
  await harness.client.workflow.getHandle(operationId).signal('writ-test-nudge');
  for (let failed = 0; failed < 2;) {
    // Temporal refuses a long poll without a deadline; it answers empty after a minute.
    const task = await harness.client.connection.withDeadline(Date.now() + 70_000, () =>
      service.pollWorkflowTaskQueue({
        namespace,
        taskQueue: { name: harness.taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        identity: 'a broken deploy',
      }),
    );
    if (!task.taskToken?.length) continue;
    await service.respondWorkflowTaskFailed({
      namespace,
      taskToken: task.taskToken,
      identity: 'a broken deploy',
      cause: temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE,
      failure: { message: 'TypeError: a broken deploy' },
    });
    failed++;
  }
}

const decisionsOf = async (harness: WritHarness, operationId: string) =>
  (await ledgerEvents(harness.ledger, operationId))
    .filter((event) => event.type.startsWith('approval.'))
    .map((e) => e.type);

test('a decision sent while the workflow task is failing', async (t) => {
  const harness = await startWrit(t, { policy, approvers });
  const { writ, ledger } = harness;
  const { operationId } = await writ.start(updateTier());
  await waitForState(writ, operationId, 'awaiting_approval');
  const { digest } = (await writ.state(operationId)).approvals;
  await harness.stopWorker();
  await failTwoWorkflowTasks(harness, operationId);
  const decision = { approver: 'bob', reason: 'renewal confirmed', digest: digest! };

  await t.test('is refused with WORKFLOW_NOT_READY, nothing recorded, when the task never recovers', async () => {
    const impatient = new WritClient(harness.client, { taskQueue: harness.taskQueue, notReadyPatienceMs: 1_500 });
    await assert.rejects(impatient.approve(operationId, decision), (error: Error) => {
      assert.ok(hasCode(error, 'WORKFLOW_NOT_READY'), `${error.name}: ${error.message}`);
      assert.match(error.message, /workflow task kept failing.*nothing was recorded/);
      return true;
    });
    assert.deepEqual(await decisionsOf(harness, operationId), ['approval.requested']);
  });

  await t.test('is taken once when a healthy worker is back', async () => {
    const approving = writ.approve(operationId, decision);
    // The first attempts meet the failing task; the worker comes back while the client still offers it.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await harness.startWorker();
    assert.equal((await approving).accepted, true);
    assert.equal((await writ.result(operationId)).outcome, 'succeeded');
    assert.deepEqual(await decisionsOf(harness, operationId), ['approval.requested', 'approval.granted']);
    const tier = await ledger.pool.query('SELECT tier FROM accounts WHERE id = 42');
    assert.equal(tier.rows[0].tier, 'gold');
  });
});
