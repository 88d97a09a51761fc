/**
 * The Temporal Web UI, driven in headless Chromium, showing what Writ puts there: the list
 * filtered by `WritState="awaiting_approval"`, and an operation's summary, static details and
 * current details (Temporal's user metadata, set by WritClient.start and the workflow's
 * setCurrentDetails). The UI is a single-page app: every step waits for the content it needs.
 * The walk itself is test/support/web-ui-walk.ts; test/topology runs it against the UI server
 * of the production topology. Screenshots go to test-artifacts/webui-*.png.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { browserUnavailable } from '../support/browser.js';
import { temporalUiUrl } from '../support/db.js';
import { startWrit, updateTier, waitForState } from '../support/writ.js';
import { ASSERTED_IDENTITIES } from '../support/identities.js';
import { walkWebUi } from '../support/web-ui-walk.js';

const policy = {
  id: 'ui-policy',
  identity: ASSERTED_IDENTITIES,
  rules: [
    {
      name: 'tier-changes-need-a-manager',
      match: { connector: 'postgres', action: 'update', target: 'public.accounts/*' },
      risk: 'high',
      approvals: { required: 1, fromGroups: ['managers'], windowMs: 600_000 },
    },
  ],
};
const approvers = { approvers: [{ id: 'bob', groups: ['managers'] }] };

test(
  "the Web UI lists operations awaiting approval and shows an operation's summary and current details",
  { skip: browserUnavailable() ?? false },
  async (t) => {
    const actor = `ui-${randomBytes(3).toString('hex')}`;
    const { writ, client } = await startWrit(t, { policy, approvers });

    const waiting = await writ.start(updateTier({ actor: { id: actor, kind: 'user', groups: ['sales-ops'] } }));
    await waitForState(writ, waiting.operationId, 'awaiting_approval');
    const done = await writ.start({
      actor: { id: actor, kind: 'user', groups: ['sales-ops'] },
      intent: 'add a prospect',
      steps: [
        {
          connector: 'postgres',
          action: 'insert',
          target: 'public.accounts/44',
          params: { values: { id: 44, name: 'Initech', tier: 'bronze' } },
        },
      ],
    });
    assert.equal((await writ.result(done.operationId)).outcome, 'succeeded', 'the low-risk write needs no approval');
    await walkWebUi({
      ui: temporalUiUrl(),
      client,
      writ,
      actor,
      waiting,
      done,
      policyId: policy.id,
      prefix: 'webui',
      after: (fn) => t.after(fn),
    });
  },
);
