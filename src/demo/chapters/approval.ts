import type pg from 'pg';
import { path, waitForState } from './wait.js';
import type { Chapter } from './chapter.js';
import { expect } from './chapter.js';
import { decideThroughPage } from './approval-page.js';

const SELF_APPROVAL = 'the requester cannot approve their own operation';

export const approval: Chapter = {
  title: 'A high-risk write waits for a second person',
  async run({ writ, say, pool, signal, requesterKey, serveUrl }) {
    say.say('alice asks to move Acme from the silver to the gold tier: postgres connector, row crm.accounts/acme.');
    const { operationId, correlationId } = await writ.start(
      {
        actor: { id: 'alice', kind: 'user', groups: ['sales-ops', 'managers'] },
        intent: 'renewal signed: move Acme to gold',
        steps: [
          { connector: 'postgres', action: 'update', target: 'crm.accounts/acme', params: { set: { tier: 'gold' } } },
        ],
      },
      { identity: { key: requesterKey } },
    );
    const waiting = await waitForState(writ, operationId, 'awaiting_approval', signal);
    const policy = waiting.envelope?.policy;
    say.say(
      `Policy rule ${policy?.matchedRules.join(', ')} says: risk ${policy?.risk}, ${waiting.approvals.required} approval from ${waiting.approvals.approverGroups.join(', ')}.`,
    );
    say.say(`The operation waits (state ${waiting.state}); nothing is written yet. The approval is bound to digest`);
    say.say(
      `${waiting.approvals.digest?.slice(0, 16)}…: these exact parameters, this version of the row, this policy revision.`,
    );
    expect((await tier(pool)) === 'silver', "nothing may be written before approval, but Acme's tier already changed");

    const link = `${serveUrl}/approvals/${operationId}`;
    say.say(`The approval page is ${link}; approvers sign in at the company's identity provider.`);
    say.say('alice is a manager too: she signs in and tries to approve her own request.');
    const own = await decideThroughPage(serveUrl, operationId, 'alice', 'approve', 'I am a manager');
    expect(
      !own.accepted && own.message.includes(SELF_APPROVAL),
      `alice's own approval should be refused (${SELF_APPROVAL}), but the page said ${JSON.stringify(own)}`,
    );
    say.quote(`refused: ${own.message}`);
    say.say('The refusal is recorded in the ledger like any decision. bob, another manager, signs in, reads');
    say.say('the page (who asked, every change before and after, risk, deadline, digest) and approves:');
    const bobs = await decideThroughPage(serveUrl, operationId, 'bob', 'approve', 'renewal contract checked');
    expect(bobs.accepted, `bob's approval should be accepted, but the page said: ${bobs.message}`);
    expect(
      bobs.shown.includes('silver') && bobs.shown.includes('gold'),
      'the approval page should show the tier before and after',
    );
    say.quote(`accepted: ${bobs.message}`);
    say.say("The record carries the proof: writ serve's signed assertion over bob's login and the provider's");
    say.say('ID token inside it, both re-checked by the worker and again by anyone verifying the bundle.');
    const result = await writ.result(operationId);
    const state = await writ.state(operationId);
    say.quote(path(state));
    expect(result.outcome === 'succeeded', `the approved write should succeed, but the outcome is ${result.outcome}`);
    const now = await tier(pool);
    expect(now === 'gold', `Acme should now be gold, but it is ${now}`);
    say.say(`Acme's tier is now ${now}. operation ${operationId}`);
    return {
      operationId,
      correlationId,
      outcome: result.outcome,
      refusal: own.message,
      approvedBy: state.approvals.granted.map((g) => g.approver),
    };
  },
};

async function tier(pool: pg.Pool): Promise<string | undefined> {
  return (await pool.query<{ tier: string }>(`SELECT tier FROM crm.accounts WHERE id = 'acme'`)).rows[0]?.tier;
}
