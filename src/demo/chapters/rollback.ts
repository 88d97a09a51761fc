import type pg from 'pg';
import { path } from './wait.js';
import type { Chapter } from './chapter.js';
import { expect } from './chapter.js';

export const rollback: Chapter = {
  title: 'A write that does not stick is rolled back',
  async run({ writ, say, pool, serviceToken }) {
    const before = await price(pool);
    say.say(
      `pricing-bot, an automation, sets the widget's price from ${before} to 9.00 for a promotion (crm.prices/widget).`,
    );
    say.say('It proves who it is with a token from the identity provider (client credentials), good for one request.');
    say.say('The demo database has a rule of its own that nobody told the bot about: a trigger standing in for');
    say.say('another system, which puts any price below its floor (10.00) back up to the floor right after a write.');
    const { operationId, correlationId } = await writ.start(
      {
        actor: { id: 'pricing-bot', kind: 'service', groups: ['automation'] },
        intent: 'spring promotion: widget at 9.00',
        steps: [
          { connector: 'postgres', action: 'update', target: 'crm.prices/widget', params: { set: { price: 9 } } },
        ],
      },
      { identity: { token: () => serviceToken('pricing-bot') } },
    );
    const result = await writ.result(operationId);
    const state = await writ.state(operationId);
    const step = state.steps[0];
    say.say('Writ wrote 9.00, then read the row back to verify it:');
    say.quote(`verification failed: ${step?.verification?.reason ?? step?.error ?? '(no reason recorded)'}`);
    say.say('So it restored the row from the snapshot it took before writing, and recorded every step:');
    say.quote(path(state));
    expect(
      result.outcome === 'rolled_back',
      `the write should have been rolled back, but the outcome is ${result.outcome}`,
    );
    expect(step?.status === 'compensated', `the step should be compensated, but it is ${step?.status}`);
    const after = await price(pool);
    expect(after === before, `the price should be back at ${before}, but it is ${after}`);
    say.say(`The widget costs ${after} again, as before the write. operation ${operationId}`);
    return { operationId, correlationId, outcome: result.outcome, reason: step?.verification?.reason, price: after };
  },
};

async function price(pool: pg.Pool): Promise<string | undefined> {
  return (await pool.query<{ price: string }>(`SELECT price::text FROM crm.prices WHERE sku = 'widget'`)).rows[0]
    ?.price;
}
