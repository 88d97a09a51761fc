import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { filesConnector } from '../../src/connectors/files/index.js';
import { postgresConnector } from '../../src/connectors/postgres/index.js';
import { webhookConnector } from '../../src/connectors/webhook/index.js';
import { withHooks } from '../support/hooked-connector.js';
import { startWebhookReceiver } from '../support/webhook-receiver.js';
import { ledgerEvents, startWrit } from '../support/writ.js';

describe('an operation over three connectors (a notification, a row, a file)', () => {
  test("when verification fails at step two, the steps run back in reverse and the notifier's compensation is sent", async (t) => {
    const receiver = await startWebhookReceiver();
    t.after(() => receiver.close());
    const root = mkdtempSync(join(tmpdir(), 'writ-files-'));
    const { ledger, writ } = await startWrit(t, {
      connectors: (l) => [
        webhookConnector({ url: receiver.url }),
        withHooks(postgresConnector({ pool: l.pool, allowLedgerDatabase: true }), {
          beforeVerify: async () => void (await l.pool.query(`UPDATE accounts SET tier = 'bronze' WHERE id = 42`)),
        }),
        filesConnector({ root }),
      ],
    });
    const { operationId } = await writ.start({
      actor: { id: 'alice', kind: 'user' },
      intent: 'announce, then raise Acme to gold and write the renewal note',
      steps: [
        { connector: 'webhook', action: 'notify', target: '#billing', params: { message: 'Acme moves to gold today' } },
        { connector: 'postgres', action: 'update', target: 'public.accounts/42', params: { set: { tier: 'gold' } } },
        {
          connector: 'files',
          action: 'write',
          target: 'renewal-42.txt',
          params: { content: 'Acme renewed at gold\n' },
        },
      ],
    });
    assert.equal((await writ.result(operationId)).outcome, 'rolled_back');

    assert.equal(
      (await ledger.pool.query('SELECT tier FROM accounts WHERE id = 42')).rows[0].tier,
      'silver',
      'the row is restored',
    );
    assert.equal(existsSync(join(root, 'renewal-42.txt')), false, 'step three never ran');
    assert.equal(receiver.notifications('#billing').length, 1);
    const [correction] = receiver.corrections('#billing');
    assert.ok(correction, 'a correction was sent');
    assert.equal(correction.corrects, receiver.notifications('#billing')[0]!.id, 'it references the original message');

    const trail = (await ledgerEvents(ledger, operationId))
      .filter((e) => e.type.startsWith('step.'))
      .map((e) => `${e.type}#${e.stepIndex}`);
    assert.deepEqual(trail, [
      'step.executing#0',
      'step.executed#0',
      'step.verifying#0',
      'step.verified#0',
      'step.executing#1',
      'step.executed#1',
      'step.verifying#1',
      'step.verification_failed#1',
      'step.compensating#1',
      'step.compensated#1',
      'step.compensating#0',
      'step.compensated#0',
    ]);
    const compensated = (await ledgerEvents(ledger, operationId)).filter((e) => e.type === 'step.compensated');
    assert.deepEqual(
      compensated.map((e) => e.payload.method),
      ['snapshot-restore', 'compensate'],
    );
  });
});
