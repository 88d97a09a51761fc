import type pg from 'pg';
import { path, waitForState } from './wait.js';
import type { Chapter } from './chapter.js';
import { expect } from './chapter.js';

const SELF_APPROVAL = 'the requester cannot approve their own operation';

export const approval: Chapter = {
  title: 'A high-risk write waits for a second person',
  async run({ writ, say, pool, signal }) {
    say.say('alice asks to move Acme from the silver to the gold tier: postgres connector, row crm.accounts/acme.');
    const { operationId, correlationId } = await writ.start({
      actor: { id: 'alice', kind: 'user', groups: ['sales-ops', 'managers'] },
      intent: 'renewal signed: move Acme to gold',
      steps: [
        { connector: 'postgres', action: 'update', target: 'crm.accounts/acme', params: { set: { tier: 'gold' } } },
      ],
    });
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

    say.say('alice is a manager too, and tries to approve her own request:');
    const own = await writ.approve(operationId, { approver: 'alice', reason: 'I am a manager' });
    expect(
      !own.accepted && own.refusal === SELF_APPROVAL,
      `alice's own approval should be refused (${SELF_APPROVAL}), but the answer was ${JSON.stringify(own)}`,
    );
    say.quote(`refused: ${own.refusal}`);
    say.say('The refusal is recorded in the ledger like any decision. bob, another manager, approves:');
    const bobs = await writ.approve(operationId, { approver: 'bob', reason: 'renewal contract checked' });
    expect(bobs.accepted, `bob's approval should be accepted, but it was refused: ${bobs.refusal}`);
    say.quote('accepted');
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
      refusal: own.refusal,
      approvedBy: state.approvals.granted.map((g) => g.approver),
    };
  },
};

async function tier(pool: pg.Pool): Promise<string | undefined> {
  return (await pool.query<{ tier: string }>(`SELECT tier FROM crm.accounts WHERE id = 'acme'`)).rows[0]?.tier;
}
