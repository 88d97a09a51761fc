import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { directorySource } from '../../src/governance/directory.js';
import type { RunningServe } from '../../src/serve/server.js';
import { startServeWith } from '../../src/serve/server.js';
import type { SlackApprovalsOptions } from '../../src/serve/slack-approvals.js';
import { loadChannelSigner } from '../../src/serve/slack-assertion.js';
import type { SlackApiServer } from '../support/slack-api-server.js';
import { startSlackApiServer } from '../support/slack-api-server.js';
import type { WritHarness } from '../support/writ.js';
import { ledgerEvents, startWrit, waitFor, waitForState } from '../support/writ.js';
import { LINK_SECRET, SLACK_SECRET } from './fixtures.js';
import {
  CHANNEL,
  CHANNEL_NAME,
  TEAM,
  buttonsOf,
  click,
  directory,
  keys,
  policy,
  signedRequest,
  slackHeaders,
} from './slack-approvals-fixtures.js';

describe('Slack approval buttons', () => {
  const cleanups: Array<() => Promise<void>> = [];
  const made = keys();
  let harness: WritHarness;
  let slack: SlackApiServer;
  let serve: RunningServe;
  let slackOptions: SlackApprovalsOptions;
  const logs: string[] = [];

  const startServing = async () => {
    serve = await startServeWith(
      {
        pool: harness.ledger.pool,
        port: 0,
        linkSecret: LINK_SECRET,
        slackSigningSecret: SLACK_SECRET,
        slackTeamIds: [TEAM],
        slackApprovals: slackOptions,
      },
      { log: (message) => logs.push(message) },
    );
  };

  before(async () => {
    harness = await startWrit({ after: (fn) => cleanups.push(fn) }, { policy, approvers: directory(made) });
    slack = await startSlackApiServer();
    cleanups.push(() => slack.close());
    slackOptions = {
      botToken: slack.token,
      channel: CHANNEL,
      slackApiUrl: `${slack.url}/api/`,
      temporal: harness.client,
      taskQueue: harness.taskQueue,
      writ: harness.writ,
      directory: directorySource(directory(made)),
      signer: loadChannelSigner(made.channelKeyPath, CHANNEL_NAME),
      pollMs: 200,
    };
    await startServing();
    cleanups.push(() => serve.close());
  });

  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  const nowSeconds = () => Math.floor(Date.now() / 1000);
  const interact = (body: string, headers: Record<string, string>) =>
    fetch(`${serve.url}/slack/interactions`, { method: 'POST', body, headers });
  const messageOf = (operationId: string) =>
    slack.messages.find((message) => message.metadata?.event_payload.operation_id === operationId);

  /** Starts a signed request and waits for its approval message in the channel. */
  const awaitingInSlack = async (labels?: Record<string, string>) => {
    const operationId = `slack-${randomUUID()}`;
    await harness.writ.start(signedRequest(made.alice.privateKey, operationId, labels));
    await waitForState(harness.writ, operationId, 'awaiting_approval');
    await waitFor('the approval message in Slack', async () => messageOf(operationId) !== undefined);
    const digest = (await harness.writ.state(operationId)).approvals.digest!;
    return { operationId, digest, message: messageOf(operationId)! };
  };
  const approvalRecords = async (operationId: string) =>
    (await ledgerEvents(harness.ledger, operationId)).filter((event) => event.type.startsWith('approval.'));
  const approvalTypes = async (operationId: string) => (await approvalRecords(operationId)).map((event) => event.type);

  test('an operation waiting for approval is posted once, with Approve and Reject buttons; expiry updates it', async () => {
    const { operationId, digest, message } = await awaitingInSlack({ review: 'quick' });
    assert.equal(message.channel, CHANNEL);
    assert.deepEqual(
      buttonsOf(message).map((button) => [button.action_id, button.value]),
      [
        ['writ_approve', `${operationId} ${digest}`],
        ['writ_reject', `${operationId} ${digest}`],
      ],
    );
    const shown = JSON.stringify(message.blocks);
    assert.match(shown, /Requested by\* alice \(identity verified\)/);
    assert.match(shown, new RegExp(digest));
    // Several passes of the watcher later, it is still one message.
    await new Promise((resolve) => setTimeout(resolve, 700));
    const posts = slack.calls.filter(
      (call) => call.method === 'chat.postMessage' && JSON.stringify(call.args).includes(operationId),
    );
    assert.equal(posts.length, 1);
    assert.equal((await harness.writ.result(operationId)).outcome, 'expired');
    await waitFor('the message to show the expiry', async () => /closed, expired/.test(messageOf(operationId)!.text));
    assert.equal(buttonsOf(messageOf(operationId)!).length, 0, 'an expired operation has no buttons left');
  });

  test('Approve decides as the mapped person, with a verified Slack identity, and the message is updated', async () => {
    const { operationId, digest } = await awaitingInSlack();
    const body = click({
      action: 'writ_approve',
      value: `${operationId} ${digest}`,
      user: 'UBOB',
      responseUrl: slack.responseUrl(operationId),
    });
    const started = Date.now();
    const response = await interact(body, slackHeaders(body, nowSeconds()));
    assert.equal(response.status, 200);
    assert.ok(Date.now() - started < 3000, "acknowledged within Slack's 3 seconds");
    assert.equal((await harness.writ.result(operationId)).outcome, 'succeeded');

    const granted = (await approvalRecords(operationId)).find((event) => event.type === 'approval.granted');
    assert.ok(granted, 'the approval is on the record');
    const identity = granted.payload.identity as Record<string, unknown>;
    assert.equal(identity.channel, 'slack');
    assert.equal(identity.verified, true);
    assert.equal(identity.id, 'bob');
    assert.deepEqual(identity.slack, { team: TEAM, user: 'UBOB' });
    assert.equal(identity.channelName, CHANNEL_NAME);
    assert.equal(granted.payload.identityVerified, true);

    await waitFor('the answer on the response_url', async () =>
      slack.responses.some((r) => r.path.endsWith(operationId) && /You approved/.test(String(r.body.text))),
    );
    await waitFor('the message to show the operation closed', async () =>
      /closed, succeeded/.test(messageOf(operationId)!.text),
    );
    const updated = messageOf(operationId)!;
    assert.equal(buttonsOf(updated).length, 0, 'a closed operation has no buttons left');
    assert.match(JSON.stringify(updated.blocks), /approved by bob \(slack\)/);
  });

  test('a stale timestamp, a bad signature, an unpinned workspace and an unmapped user are refused, nothing counted', async () => {
    const { operationId, digest } = await awaitingInSlack();
    const value = `${operationId} ${digest}`;
    const responseUrl = slack.responseUrl(operationId);
    const bob = click({ action: 'writ_approve', value, user: 'UBOB', responseUrl });

    const stale = await interact(bob, slackHeaders(bob, nowSeconds() - 6 * 60));
    assert.equal(stale.status, 401);
    assert.match(await stale.text(), /in the past/);

    const forged = await interact(bob, slackHeaders(bob, nowSeconds(), 'not-the-signing-secret'));
    assert.equal(forged.status, 401);
    assert.match(await forged.text(), /X-Slack-Signature does not match/);

    const elsewhere = click({ action: 'writ_approve', value, user: 'UBOB', team: 'T0OTHER', responseUrl });
    const unpinned = await interact(elsewhere, slackHeaders(elsewhere, nowSeconds()));
    assert.equal(unpinned.status, 403);
    assert.match(await unpinned.text(), /does not answer Slack workspace "T0OTHER"/);

    const stranger = click({ action: 'writ_approve', value, user: 'UNOBODY', responseUrl });
    const unmapped = await interact(stranger, slackHeaders(stranger, nowSeconds()));
    assert.equal(unmapped.status, 403);
    assert.match(await unmapped.text(), /UNOBODY.*nobody in the approver directory/);

    // Give a wrongly accepted click every chance to land before looking.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const state = await harness.writ.state(operationId);
    assert.equal(state.state, 'awaiting_approval');
    assert.equal(state.approvals.granted.length, 0);
    assert.deepEqual(await approvalTypes(operationId), ['approval.requested']);
    assert.equal(slack.responses.filter((r) => r.path.endsWith(operationId)).length, 0);
  });

  test('what is not a click on a Writ button is refused with 400, and GET with 405', async () => {
    const notJson = 'payload=%7Bnot-json';
    const garbled = await interact(notJson, slackHeaders(notJson, nowSeconds()));
    assert.equal(garbled.status, 400);
    assert.match(await garbled.text(), /only block_actions payloads/);
    const odd = click({
      action: 'writ_approve',
      value: 'drop table',
      user: 'UBOB',
      responseUrl: slack.responseUrl('x'),
    });
    const notOurs = await interact(odd, slackHeaders(odd, nowSeconds()));
    assert.equal(notOurs.status, 400);
    assert.match(await notOurs.text(), /not on a Writ approval button/);
    const get = await fetch(`${serve.url}/slack/interactions`);
    assert.equal(get.status, 405);
  });

  test('a replayed click is refused and counts once', async () => {
    const { operationId, digest } = await awaitingInSlack({ review: 'two' });
    const body = click({
      action: 'writ_approve',
      value: `${operationId} ${digest}`,
      user: 'UCAROL',
      responseUrl: slack.responseUrl(operationId),
    });
    const headers = slackHeaders(body, nowSeconds());
    assert.equal((await interact(body, headers)).status, 200);
    await waitFor(
      'the first approval',
      async () => (await harness.writ.state(operationId)).approvals.granted.length === 1,
    );
    const before = await approvalRecords(operationId);

    const replay = await interact(body, headers);
    assert.equal(replay.status, 409);
    assert.match(await replay.text(), /already handled/);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(await approvalRecords(operationId), before, 'the replay put nothing on the record');
    const state = await harness.writ.state(operationId);
    assert.equal(state.approvals.stillNeeded, 1);
  });

  test('the requester clicking Approve on her own request is refused and recorded', async () => {
    const { operationId, digest } = await awaitingInSlack();
    const body = click({
      action: 'writ_approve',
      value: `${operationId} ${digest}`,
      user: 'UALICE',
      responseUrl: slack.responseUrl(operationId),
    });
    assert.equal((await interact(body, slackHeaders(body, nowSeconds()))).status, 200);
    await waitFor('the refusal on the record', async () =>
      (await approvalRecords(operationId)).some((event) => event.type === 'approval.refused'),
    );
    const refused = (await approvalRecords(operationId)).find((event) => event.type === 'approval.refused')!;
    assert.match(JSON.stringify(refused.payload), /requester cannot approve their own operation/);
    await waitFor('the refusal told to alice', async () =>
      slack.responses.some((r) => r.path.endsWith(operationId) && /was refused/.test(String(r.body.text))),
    );
    const state = await harness.writ.state(operationId);
    assert.equal(state.state, 'awaiting_approval');
    assert.equal(state.approvals.granted.length, 0);

    // Reject by another manager closes it, and the message says so.
    const carol = click({
      action: 'writ_reject',
      value: `${operationId} ${digest}`,
      user: 'UCAROL',
      responseUrl: slack.responseUrl(operationId),
    });
    assert.equal((await interact(carol, slackHeaders(carol, nowSeconds()))).status, 200);
    assert.equal((await harness.writ.result(operationId)).outcome, 'rejected');
    const rejected = (await approvalRecords(operationId)).find((event) => event.type === 'approval.rejected')!;
    assert.equal((rejected.payload.identity as Record<string, unknown>).channel, 'slack');
    await waitFor('the message to show the rejection', async () =>
      /closed, rejected/.test(messageOf(operationId)!.text),
    );
  });

  test('where policy wants single sign-on, the button opens the approval page and a click decides nothing', async () => {
    const { operationId, digest, message } = await awaitingInSlack({ review: 'sso' });
    const buttons = buttonsOf(message);
    assert.deepEqual(
      buttons.map((button) => [button.action_id, button.url]),
      [['writ_open_page', `${serve.url}/approvals/${operationId}`]],
    );
    // A click crafted as Approve anyway (signed, from a mapped manager) is answered with the link.
    const body = click({
      action: 'writ_approve',
      value: `${operationId} ${digest}`,
      user: 'UBOB',
      responseUrl: slack.responseUrl(operationId),
    });
    assert.equal((await interact(body, slackHeaders(body, nowSeconds()))).status, 200);
    await waitFor('the answer pointing at the approval page', async () =>
      slack.responses.some((r) => r.path.endsWith(operationId) && /single sign-on/.test(String(r.body.text))),
    );
    assert.deepEqual(await approvalTypes(operationId), ['approval.requested']);
  });

  test('after a restart the server finds what it posted in the channel and does not post it again', async () => {
    const { operationId } = await awaitingInSlack();
    await serve.close();
    const postsBefore = slack.calls.filter((call) => call.method === 'chat.postMessage').length;
    await startServing();
    assert.ok(slack.calls.some((call) => call.method === 'conversations.history'));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(slack.calls.filter((call) => call.method === 'chat.postMessage').length, postsBefore);
    assert.equal(slack.messages.filter((m) => m.metadata?.event_payload.operation_id === operationId).length, 1);
    assert.deepEqual(
      logs.filter((line) => !/Slack approvals/.test(line)),
      [],
    );
  });
});
