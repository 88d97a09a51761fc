import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkLink } from '../../src/serve/signed-links.js';
import { startSlackApiServer } from '../support/slack-api-server.js';
import { startWebhookReceiver } from '../support/webhook-receiver.js';
import type { HarnessOptions } from '../support/writ.js';
import { startWrit, updateTier, waitFor, waitForState } from '../support/writ.js';
import { stuckConnectors } from '../support/stuck-connector.js';

const approvers = { approvers: [{ id: 'dana', groups: ['oncall'] }] };
const LINK_SECRET = 'alert-link-secret-'.padEnd(40, 'x');

async function stuckOperation(t: Parameters<typeof startWrit>[0], alerts: HarnessOptions['alerts']) {
  const harness = await startWrit(t, { approvers, connectors: stuckConnectors, ...(alerts ? { alerts } : {}) });
  const { operationId } = await harness.writ.start(updateTier());
  await waitForState(harness.writ, operationId, 'needs_intervention', 60_000);
  return { ...harness, operationId };
}

describe('when an operation needs intervention, the configured receivers are told', () => {
  test('the webhook gets one signed alert naming the operation, what happened and the link, even when it is down at first', async (t) => {
    const receiver = await startWebhookReceiver({ secret: 'hook-secret' });
    t.after(() => receiver.close());
    const slack = await startSlackApiServer();
    t.after(() => slack.close());
    receiver.failNext(1, 503);
    const { writ, operationId } = await stuckOperation(t, {
      webhook: { url: receiver.url, secret: 'hook-secret' },
      slack: { channel: 'C-ops', botToken: slack.token, apiUrl: `${slack.url}/api/` },
      links: { baseUrl: 'https://writ.example.com', secret: LINK_SECRET },
    });
    await waitFor('the alert', async () => receiver.messages.length > 0, 30_000);
    assert.ok(receiver.requests() >= 2, 'the first attempt failed and was retried');
    assert.equal(receiver.rejectedSignatures(), 0, 'signed with the secret');
    assert.equal(receiver.messages.length, 1);
    const { body, idempotencyKey } = receiver.messages[0]!;
    assert.equal(idempotencyKey, `operation.needs_intervention:${operationId}`);
    assert.equal(body.kind, 'operation.needs_intervention');
    assert.equal(body.operationId, operationId);
    assert.match(String(body.summary), /needs intervention/);
    assert.match(String(body.summary), /read-only for maintenance/);
    const link = body.whatHappened as { command: string; url: string };
    assert.equal(link.command, `writ what-happened ${operationId} --timeline`);
    const url = new URL(link.url);
    assert.equal(url.origin, 'https://writ.example.com');
    assert.equal(checkLink(LINK_SECRET, 'timeline', url.searchParams, Date.now()).ok, true, 'the link opens');

    await waitFor('the Slack message', async () => slack.messages.length > 0, 30_000);
    assert.equal(slack.messages[0]!.channel, 'C-ops');
    assert.match(slack.messages[0]!.text, new RegExp(`Operation ${operationId} needs intervention`));
    assert.match(slack.messages[0]!.text, /https:\/\/writ\.example\.com\//);

    await writ.resolve(operationId, { by: 'dana', action: 'restored by hand', reason: 'maintenance' });
    assert.equal((await writ.result(operationId)).outcome, 'resolved_manually');
    assert.equal(receiver.messages.length, 1, 'one alert per operation');
  });

  test('a receiver that never answers neither blocks nor fails the operation', async (t) => {
    const receiver = await startWebhookReceiver();
    const deadUrl = receiver.url;
    await receiver.close();
    const { writ, operationId } = await stuckOperation(t, { webhook: { url: deadUrl } });
    await writ.resolve(operationId, { by: 'dana', action: 'restored by hand', reason: 'maintenance' });
    assert.equal((await writ.result(operationId)).outcome, 'resolved_manually');
  });
});
