import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { defaultPayloadConverter } from '@temporalio/common';
import { WRIT_SEARCH_ATTRIBUTES } from '../../src/model/search-attributes.js';
import { ONE_UPSERT_PER_ACTIVATION_PATCH } from '../../src/workflows/search-attribute-upserts.js';
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

describe("a governed write's state reaches Temporal's visibility with every move", () => {
  // Merging a task's upserts made the command sequence depend on activation boundaries, which a
  // replay need not reproduce (search-attribute-upserts.ts): new runs must neither merge nor
  // record that they do.
  test('a one-step write upserts once per move, and lists show where it ended', async (t) => {
    const { client, writ } = await startWrit(t);
    const { operationId, handle } = await writ.start(updateTier());
    assert.equal((await writ.result(operationId)).outcome, 'succeeded');

    const upserted = await allUpserts(client, operationId);
    assert.ok(!patchesTaken(upserted).includes(ONE_UPSERT_PER_ACTIVATION_PATCH), JSON.stringify(upserted));

    const upserts = writUpserts(upserted);
    // Every move after the first is an upsert of its own, in order (the closing one says the outcome too).
    const moves = (await writ.state(operationId)).transitions.slice(1).map((move) => move.to);
    assert.ok(moves.length >= 6, `moves: ${moves.join(', ')}`);
    const states = upserts.flatMap((fields) => (typeof fields.WritState === 'string' ? [fields.WritState] : []));
    assert.deepEqual(states.slice(0, moves.length), moves, `upserts: ${JSON.stringify(upserts)}`);
    assert.equal(upserts.at(-1)!.WritState, 'closed:succeeded');
    assert.ok(upserts.some((fields) => fields.WritRisk !== undefined));
    assert.ok(upserts.some((fields) => fields.WritActor !== undefined));

    const description = await handle.describe();
    assert.equal(description.typedSearchAttributes.get(WRIT_SEARCH_ATTRIBUTES.state), 'closed:succeeded');
    await waitUntilListed(client, 'WritState = "closed:succeeded"', operationId);
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
