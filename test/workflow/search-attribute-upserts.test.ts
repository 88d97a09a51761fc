import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { defaultPayloadConverter } from '@temporalio/common';
import { WRIT_SEARCH_ATTRIBUTES } from '../../src/model/search-attributes.js';
import { SEARCH_ATTRIBUTES_AT_WAITS } from '../../src/workflows/governed-write/run-patches.js';
import { ONE_UPSERT_PER_ACTIVATION_PATCH } from '../../src/workflows/search-attribute-upserts.js';
import { SCENARIOS } from '../replay/scenarios.js';
import { ASSERTED_IDENTITIES } from '../support/identities.js';
import { waitUntilListed } from '../support/visibility.js';
import { startWrit, updateTier, waitForState } from '../support/writ.js';

const { EventType } = proto.temporal.api.enums.v1;
const writAttributes = new Set(Object.values(WRIT_SEARCH_ATTRIBUTES).map((key) => key.name));

/** Every upsert in the run's history, in order, each as the attributes it set. */
async function allUpserts(client: Client, operationId: string): Promise<Array<Record<string, unknown>>> {
  const history = await client.workflow.getHandle(operationId).fetchHistory();
  return (history.events ?? [])
    .filter((event) => event.eventType === EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES)
    .map((event) => {
      const fields = event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {};
      return Object.fromEntries(
        Object.entries(fields).map(([name, payload]) => [name, defaultPayloadConverter.fromPayload(payload)]),
      );
    });
}

/** Writ's own upserts: not the one core makes to file a patch. */
function writUpserts(upserts: Array<Record<string, unknown>>): Array<Record<string, unknown>> {
  return upserts.filter((fields) => Object.keys(fields).some((name) => writAttributes.has(name)));
}

/** Every patch a run took: core files each under TemporalChangeVersion. */
function patchesTaken(upserts: Array<Record<string, unknown>>): unknown[] {
  return upserts.flatMap((fields) => (Array.isArray(fields.TemporalChangeVersion) ? fields.TemporalChangeVersion : []));
}

describe("a governed write's state reaches Temporal's visibility where the run waits", () => {
  // Visibility reads a run as a workflow task left it, so the run upserts before each wait outside
  // its worker (search-attribute-updates.ts), at places fixed by the code: merging a task's upserts
  // made the command sequence depend on activation boundaries, which a replay need not reproduce.
  test('a one-step write upserts before the write to the target and as it closes; lists show where it ended', async (t) => {
    const { client, writ } = await startWrit(t);
    const { operationId, handle } = await writ.start(updateTier());
    assert.equal((await writ.result(operationId)).outcome, 'succeeded');

    const upserted = await allUpserts(client, operationId);
    const patches = patchesTaken(upserted);
    assert.ok(!patches.includes(ONE_UPSERT_PER_ACTIVATION_PATCH), JSON.stringify(upserted));
    assert.ok(patches.includes(SEARCH_ATTRIBUTES_AT_WAITS), JSON.stringify(upserted));
    // Seven moves, two waits outside the worker: the write to the target, and the close.
    const moves = (await writ.state(operationId)).transitions.slice(1).map((move) => move.to);
    assert.deepEqual(moves, ['validated', 'executing', 'executed', 'verifying', 'verified', 'closed']);
    assert.deepEqual(writUpserts(upserted), [
      { WritRisk: 'low', WritState: 'executing', WritActor: 'alice' },
      { WritState: 'closed:succeeded', WritActor: 'alice' },
    ]);

    const description = await handle.describe();
    assert.equal(description.typedSearchAttributes.get(WRIT_SEARCH_ATTRIBUTES.state), 'closed:succeeded');
    assert.equal(description.typedSearchAttributes.get(WRIT_SEARCH_ATTRIBUTES.risk), 'low');
    await waitUntilListed(client, 'WritState = "closed:succeeded" AND WritActor = "alice"', operationId);
  });

  test('an operation that waits for a person is listed as needing one while it waits', async (t) => {
    const scenario = SCENARIOS.find((s) => s.name === 'resolved-manually')!;
    const { client, writ } = await startWrit(t, scenario.options);
    const { operationId } = await writ.start(scenario.request);
    await waitForState(writ, operationId, 'needs_intervention');
    await waitUntilListed(client, 'WritState = "needs_intervention"', operationId);
    await writ.resolve(operationId, { by: 'dana', action: 'fixed by hand', reason: 'rollback refused' });
    assert.equal((await writ.result(operationId)).outcome, 'resolved_manually');
    await waitUntilListed(client, 'WritState = "closed:resolved_manually"', operationId);
  });

  test('an operation that stops to wait for approval is listed as waiting while it waits', async (t) => {
    const policy = {
      id: 'needs-approval',
      identity: ASSERTED_IDENTITIES,
      rules: [
        {
          name: 'review',
          match: { connector: 'postgres', action: 'update', target: 'public.accounts/*' },
          risk: 'high',
          approvals: { fromGroups: ['managers'], required: 1, windowMs: 60_000 },
        },
      ],
    };
    const { client, writ } = await startWrit(t, {
      policy,
      approvers: { approvers: [{ id: 'bob', groups: ['managers'] }] },
    });
    const { operationId } = await writ.start(updateTier());
    await waitForState(writ, operationId, 'awaiting_approval');
    await waitUntilListed(client, 'WritState = "awaiting_approval" AND WritRisk = "high"', operationId);

    await writ.approve(operationId, { approver: 'bob', reason: 'renewal confirmed' });
    assert.equal((await writ.result(operationId)).outcome, 'succeeded');
    await waitUntilListed(client, 'WritState = "closed:succeeded"', operationId);
  });
});
