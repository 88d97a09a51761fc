import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { ensureCheckpointWatchSchedule } from '../../src/evidence/schedule.js';
import type { Client, ScheduleHandle } from '@temporalio/client';
import type { WebhookReceiver } from '../support/webhook-receiver.js';
import { startWebhookReceiver } from '../support/webhook-receiver.js';
import { startWrit, updateTier, waitFor } from '../support/writ.js';

describe('when records wait longer than allowed for a signed checkpoint', () => {
  test('the watch schedule alerts once per stale episode, not on every run', async (t) => {
    const receiver = await startWebhookReceiver();
    t.after(() => receiver.close());
    const { writ, client, taskQueue } = await startWrit(t, { alerts: { webhook: { url: receiver.url } } });
    // Records and no checkpointer: the chain is stale as soon as they are older than allowed.
    const { operationId } = await writ.start(updateTier());
    await writ.result(operationId);
    const scheduleId = `watch-${randomUUID()}`;
    await ensureCheckpointWatchSchedule(client, taskQueue, '1s', 500, scheduleId);
    const schedule = client.schedule.getHandle(scheduleId);
    // Deleted here, not in t.after: the harness closes the client's connection in its own hook first.
    try {
      await watchAlertsOnce(schedule, client, receiver);
    } finally {
      await schedule.delete();
    }
  });
});

async function watchAlertsOnce(schedule: ScheduleHandle, client: Client, receiver: WebhookReceiver): Promise<void> {
  await waitFor('the stale-checkpoint alert', async () => receiver.messages.length > 0, 30_000);
  const alert = receiver.messages[0]!.body;
  assert.equal(alert.kind, 'checkpoint.stale');
  assert.equal(alert.checkpointedSize, 0);
  assert.match(String(alert.summary), /without a signed checkpoint since/);
  const runsAtAlert = (await schedule.describe()).info.numActionsTaken;
  await waitFor(
    'three more runs of the watch',
    async () => (await schedule.describe()).info.numActionsTaken >= runsAtAlert + 3,
    30_000,
  );
  // The runs are started, not necessarily finished: let the last one finish before counting.
  const last = (await schedule.describe()).info.recentActions.at(-1)!.action.workflow;
  await client.workflow.getHandle(last.workflowId, last.firstExecutionRunId).result();
  assert.equal(receiver.requests(), 1, 'the episode alerted once');
}
