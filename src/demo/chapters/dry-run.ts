import type { Json } from '../../model/json.js';
import { path } from './wait.js';
import type { Chapter } from './chapter.js';
import { expect } from './chapter.js';

export const dryRun: Chapter = {
  title: 'A dry run shows what would change, and changes nothing',
  async run({ writ, say, pool, serviceToken }) {
    say.say('cleanup-bot wants to delete the Initech account, and asks for a dry run first (mode dry-run).');
    const { operationId, correlationId } = await writ.start(
      {
        actor: { id: 'cleanup-bot', kind: 'service', groups: ['automation'] },
        intent: 'remove accounts with no contract',
        steps: [{ connector: 'postgres', action: 'delete', target: 'crm.accounts/initech', params: {} }],
        mode: 'dry-run',
      },
      { identity: { token: () => serviceToken('cleanup-bot') } },
    );
    const result = await writ.result(operationId);
    const state = await writ.state(operationId);
    const policy = state.envelope?.policy;
    const step = state.steps[0];
    say.say(`It takes the same path as the real thing: same validation, same policy decision (risk ${policy?.risk},`);
    say.say(
      `${policy?.approvalsRequired} approval required, which a dry run records but does not wait for). Only the write`,
    );
    say.say("is replaced by the connector's preview:");
    say.quote(`before: ${show(step?.before)}\nafter:  ${show(step?.after)}`);
    say.quote(path(state));
    expect(result.outcome === 'dry_run', `the dry run should close as dry_run, but the outcome is ${result.outcome}`);
    expect(step?.status === 'previewed', `the step should be previewed, but it is ${step?.status}`);
    expect(step?.after === null, `the preview should show the row gone, but it shows ${show(step?.after)}`);
    const still = await pool.query(`SELECT 1 FROM crm.accounts WHERE id = 'initech'`);
    expect(still.rowCount === 1, 'a dry run must not write, but the Initech row is gone');
    say.say(`The Initech row is still there. operation ${operationId}`);
    return { operationId, correlationId, outcome: result.outcome, risk: policy?.risk };
  },
};

function show(value: Json | undefined): string {
  return value === null ? '(no row)' : value === undefined ? '(not recorded)' : JSON.stringify(value);
}
