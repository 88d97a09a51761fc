import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { runConformance } from '../../src/connectors/conformance/index.js';
import type { ConnectorAction } from '../../src/connectors/types.js';
import { ConnectorInputError } from '../../src/connectors/types.js';
import type { WebhookConnectorOptions } from '../../src/connectors/webhook/index.js';
import { webhookConnector } from '../../src/connectors/webhook/index.js';
import type { Json, JsonObject } from '../../src/model/json.js';
import type { WebhookReceiver } from '../support/webhook-receiver.js';
import { startWebhookReceiver } from '../support/webhook-receiver.js';

let receiver: WebhookReceiver;
before(async () => {
  receiver = await startWebhookReceiver();
});
after(() => receiver.close());

const channel = () => `#billing-${randomUUID().slice(0, 8)}`;

runConformance({
  name: 'webhook',
  connector: () => webhookConnector({ url: receiver.url }),
  action: 'notify',
  badParams: [
    { params: {}, field: 'message' },
    { params: { message: '' }, field: 'message' },
    { params: { message: 'paid', data: 'invoice 42' }, field: 'data' },
    { params: { message: 'paid', urgent: true }, field: 'urgent' },
  ],
  fixture: async () => {
    const target = channel();
    return {
      target,
      params: { message: 'Invoice 42 was paid', data: { invoice: 42, amount: '99.50' } },
      // A sent message leaves nothing the connector could read back.
      readActual: async () => null,
      effects: async () => receiver.notifications(target).length,
      compensations: async () => receiver.corrections(target),
    };
  },
});

type NotifyParams = { message: string; data?: Record<string, Json> };
const notifyAction = (options: Partial<WebhookConnectorOptions> = {}) =>
  webhookConnector({ url: receiver.url, ...options }).actions.notify as ConnectorAction<NotifyParams>;

const NOTHING = { version: 'n/a', state: null };

async function send(action: ConnectorAction<NotifyParams>, target = channel(), message = 'Invoice 42 was paid') {
  const call = { target, params: { message } };
  const idempotencyKey = randomUUID();
  const execution = await action.execute(call, { idempotencyKey, before: NOTHING });
  return { call, idempotencyKey, execution };
}

describe('webhook connector', () => {
  test('a delivery that meets 503s is retried and delivered once', async () => {
    const requestsBefore = receiver.requests();
    receiver.failNext(2);
    const { call, execution } = await send(notifyAction());
    assert.equal(execution.detail?.attempts, 3);
    assert.equal(receiver.requests() - requestsBefore, 3);
    assert.equal(receiver.notifications(call.target).length, 1);
    assert.equal((await notifyAction().verify(call, { before: NOTHING, execution })).ok, true);
  });

  test('a delivery whose answer is lost is sent again under its key and recorded once', async () => {
    receiver.failNext(1, 503, { afterRecording: true });
    const { call, idempotencyKey, execution } = await send(notifyAction());
    assert.equal(execution.detail?.attempts, 2);
    assert.deepEqual(receiver.messages.filter((m) => m.idempotencyKey === idempotencyKey).length, 1);
    assert.equal(receiver.notifications(call.target).length, 1);
  });

  test('a delivery that times out is retried and recorded once', async () => {
    receiver.hangNext(1);
    const { call, execution } = await send(notifyAction({ timeoutMs: 200 }));
    assert.equal(execution.detail?.attempts, 2);
    assert.equal(receiver.notifications(call.target).length, 1);
  });

  test('a refusal (4xx) is not retried', async () => {
    const requestsBefore = receiver.requests();
    const target = channel();
    receiver.failNext(1, 400);
    await assert.rejects(
      send(notifyAction(), target),
      (error: Error) => error instanceof ConnectorInputError && /got 400/.test(error.message),
    );
    assert.equal(receiver.requests() - requestsBefore, 1);
    assert.equal(receiver.notifications(target).length, 0);
  });

  test('the signature verifies with the secret, and a wrong secret is refused', async () => {
    const secret = 'webhook-secret';
    const signed = await startWebhookReceiver({ secret });
    after(() => signed.close());
    const { call } = await send(notifyAction({ url: signed.url, secret }));
    const [message] = signed.messages;
    assert.ok(message, 'the receiver recorded the message');
    assert.equal(message.body.channel, call.target);
    assert.equal(message.signature, `sha256=${createHmac('sha256', secret).update(message.raw).digest('hex')}`);

    await assert.rejects(
      send(notifyAction({ url: signed.url, secret: 'wrong' })),
      (error: Error) => error instanceof ConnectorInputError && /got 401/.test(error.message),
    );
    await assert.rejects(
      send(notifyAction({ url: signed.url })),
      ConnectorInputError,
      'an unsigned message is refused too',
    );
    assert.equal(signed.rejectedSignatures(), 2);
    assert.equal(signed.messages.length, 1);
  });

  test('a rollback sends a correction that references the original id', async () => {
    const action = notifyAction();
    const { call, idempotencyKey, execution } = await send(action, channel(), 'Refund of 99.50 issued');
    const result = await action.rollback(call, { idempotencyKey, before: NOTHING, execution });
    const [original] = receiver.notifications(call.target);
    const corrections = receiver.corrections(call.target);
    assert.equal(corrections.length, 1);
    const correction = corrections[0]!;
    assert.equal(correction.corrects, original!.id);
    assert.equal(correction.corrects, (execution.after as JsonObject).id);
    assert.match(String(correction.message), /^Correction: please disregard/);
    assert.equal(result.detail?.corrects, original!.id);
    assert.equal(
      receiver.messages.find((m) => m.body.id === correction.id)?.idempotencyKey,
      `${idempotencyKey}/rollback`,
    );
  });

  test('a dry run sends nothing and shows the message it would send', async () => {
    const action = notifyAction();
    const requestsBefore = receiver.requests();
    const call = { target: channel(), params: { message: 'Invoice 42 was paid', data: { invoice: 42 } } };
    const preview = await action.preview(call, await action.snapshot(call));
    assert.equal(receiver.requests(), requestsBefore);
    assert.equal(preview.before, null);
    assert.deepEqual(preview.after, {
      channel: call.target,
      message: 'Invoice 42 was paid',
      data: { invoice: 42 },
      kind: 'notification',
    });
  });

  test('verify fails when the receiver did not acknowledge the message id', async () => {
    const action = notifyAction();
    const call = { target: channel(), params: { message: 'x' } };
    const unechoed = await action.verify(call, {
      before: NOTHING,
      execution: { after: { id: 'msg_1', channel: call.target, status: 200, acknowledgement: { received: true } } },
    });
    assert.equal(unechoed.ok, false);
    assert.match(unechoed.reason ?? '', /without echoing message id msg_1/);
    const echoed = await action.verify(call, {
      before: NOTHING,
      execution: { after: { id: 'msg_1', channel: call.target, status: 202, acknowledgement: { id: 'msg_1' } } },
    });
    assert.equal(echoed.ok, true, echoed.reason);
  });

  test('a channel with spaces is refused before anything is sent', async () => {
    const action = notifyAction();
    const requestsBefore = receiver.requests();
    const call = { target: 'billing team', params: { message: 'x' } };
    assert.match((await action.validate(call)).join(), /without spaces/);
    await assert.rejects(action.execute(call, { idempotencyKey: randomUUID(), before: NOTHING }), ConnectorInputError);
    assert.equal(receiver.requests(), requestsBefore);
  });
});

describe('the webhook URL is a credential', () => {
  const SECRET_PATH = 'services/T0TEAM1234/B0HOOK5678/Zq8VsecretPathToken';
  const secretUrl = (base: string) => `${new URL(base).origin}/${SECRET_PATH}?token=sekritQueryToken`;
  const shows = (text: string) =>
    ['T0TEAM1234', 'B0HOOK5678', 'Zq8VsecretPathToken', 'sekritQueryToken'].filter((secret) => text.includes(secret));

  test('identity and description name the endpoint by scheme, host and a short hash', () => {
    const url = secretUrl(receiver.url);
    const connector = webhookConnector({ url });
    const identity = connector.actions.notify!.identity({ target: '#billing', params: {} });
    assert.match(identity, /^webhook:http:\/\/127\.0\.0\.1:\d+#sha256:[0-9a-f]{16}\/#billing$/);
    assert.deepEqual(shows(identity + connector.description), []);
    const other = webhookConnector({ url: url.replace('Zq8V', 'Xq8V') }).actions.notify!.identity({
      target: '#billing',
      params: {},
    });
    assert.notEqual(other, identity, 'two endpoints on one host are told apart');
  });

  test('refusals, unreachable receivers and answers that quote the URL are scrubbed', async () => {
    const quoting: typeof fetch = async (input) =>
      new Response(JSON.stringify({ error: `no hook at ${String(input)}`, id: null }), {
        status: 404,
        headers: { 'content-type': 'application/json' },
      });
    const refused = webhookConnector({ url: secretUrl(receiver.url), fetch: quoting, retries: 0 }).actions
      .notify as ConnectorAction<NotifyParams>;
    await assert.rejects(
      refused.execute({ target: '#x', params: { message: 'm' } }, { idempotencyKey: randomUUID(), before: NOTHING }),
      (error: Error) => {
        assert.deepEqual(shows(`${error.message} ${error.stack} ${String(error.cause ?? '')}`), [], error.message);
        assert.match(error.message, /^POST http:\/\/127\.0\.0\.1:\d+#sha256:[0-9a-f]{16} got 404/);
        return true;
      },
    );
    const failing: typeof fetch = async (input) => {
      throw new TypeError('fetch failed', { cause: new Error(`connect ECONNREFUSED for ${String(input)}`) });
    };
    const unreachable = webhookConnector({ url: secretUrl(receiver.url), fetch: failing, retries: 0 }).actions
      .notify as ConnectorAction<NotifyParams>;
    await assert.rejects(
      unreachable.execute(
        { target: '#x', params: { message: 'm' } },
        { idempotencyKey: randomUUID(), before: NOTHING },
      ),
      (error: Error) => {
        assert.deepEqual(shows(`${error.message} ${error.stack} ${String(error.cause ?? '')}`), [], error.message);
        return true;
      },
    );
    const echoing: typeof fetch = async (input, init) => {
      const body = JSON.parse(String(init?.body)) as { id: string };
      return new Response(JSON.stringify({ id: body.id, url: String(input) }), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      });
    };
    const echoed = await webhookConnector({ url: secretUrl(receiver.url), fetch: echoing }).actions.notify!.execute(
      { target: '#x', params: { message: 'm' } },
      { idempotencyKey: randomUUID(), before: NOTHING },
    );
    assert.deepEqual(shows(JSON.stringify(echoed)), []);
    assert.throws(
      () => webhookConnector({ url: `ftp://x/${SECRET_PATH}` }),
      (error: Error) => shows(error.message).length === 0,
    );
    assert.throws(
      () => webhookConnector({ url: `not a url ${SECRET_PATH}` }),
      (error: Error) => shows(error.message).length === 0,
    );
  });
});
