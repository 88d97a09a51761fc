import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import type { RecordDraft } from '../../src/ledger/record.js';
import {
  EVENT_TYPES,
  EventType,
  GovernanceType,
  HoldType,
  PrivacyType,
  KEY_CONFLICT_TYPE,
  MANUAL_TYPE_PREFIX,
  STEP_PROBLEM_TYPES,
  isApprovalTrailEvent,
  isStepEvent,
} from '../../src/model/events.js';
import { freshLedger } from '../support/db.js';

type Ledger = Awaited<ReturnType<typeof freshLedger>>;

/** Every quoted record type (or `LIKE` pattern of types) in each function of the `writ` schema, from the catalog. */
async function typesInProjection(ledger: Ledger): Promise<Map<string, Set<string>>> {
  const { rows } = await ledger.pool.query<{ name: string; type: string }>(`
    SELECT p.proname AS name, m[1] AS type
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace,
           regexp_matches(pg_get_functiondef(p.oid), '''([a-z][a-z_]*(?:\\.[a-z_%]+)+)''', 'g') AS m
     WHERE n.nspname = 'writ' AND p.prokind = 'f'`);
  const byFunction = new Map<string, Set<string>>();
  for (const { name, type } of rows) byFunction.set(name, (byFunction.get(name) ?? new Set()).add(type));
  return byFunction;
}

/** The types `writ.event_summary` has a sentence for: each `WHEN '<type>' THEN`. */
async function summarisedTypes(ledger: Ledger): Promise<Set<string>> {
  const { rows } = await ledger.pool.query<{ def: string }>(
    "SELECT pg_get_functiondef('writ.event_summary(jsonb, text)'::regprocedure) AS def",
  );
  return new Set([...rows[0]!.def.matchAll(/WHEN '([a-z_.]+)' THEN/g)].map((match) => match[1]!));
}

const known = new Set<string>([
  ...EVENT_TYPES,
  KEY_CONFLICT_TYPE,
  GovernanceType.policy,
  GovernanceType.directory,
  ...Object.values(HoldType),
  ...Object.values(PrivacyType),
]);
const knownPrefixes = new Set([MANUAL_TYPE_PREFIX, 'approval.', 'step.']);
/** Dotted names in functions that are settings, not record types (custom settings need a dot). */
const settings = new Set(['writ.erasure_event']);

describe('the event vocabulary and the SQL projection', () => {
  test('when the projection summarises an event, the vocabulary has its type, and the other way round', async (t) => {
    const ledger = await freshLedger(t);
    assert.deepEqual([...(await summarisedTypes(ledger))].sort(), [...EVENT_TYPES].sort());
  });

  test('when any function of the ledger names a record type or a prefix of types, the vocabulary has it', async (t) => {
    const ledger = await freshLedger(t);
    const named = await typesInProjection(ledger);
    assert.ok(named.get('operations_fold')?.size, 'the fold names the types it counts');
    for (const [name, types] of named) {
      for (const type of types) {
        if (settings.has(type)) continue;
        const isKnown = type.endsWith('%') ? knownPrefixes.has(type.slice(0, -1)) : known.has(type);
        assert.ok(isKnown, `writ.${name} names ${type}, which src/model/events.ts does not know`);
      }
    }
  });

  test('when an operation has a record of every type, what-happened groups them as the vocabulary does', async (t) => {
    const ledger = await freshLedger(t);
    const operationId = 'op-vocabulary';
    const actor = { id: 'writ', kind: 'service' } as const;
    // One record of each type, and an approval.* type no one writes yet: the trail is a prefix in both.
    const types = [...EVENT_TYPES.filter((type) => type !== EventType.operationClosed), 'approval.unheard_of'];
    // Each step event on a step of its own, so each step's problem comes from that one record.
    const stepTypes = types.filter(isStepEvent);
    const drafts: RecordDraft[] = types.map((type) => ({
      type,
      operationId,
      actor,
      stepIndex: isStepEvent(type) ? stepTypes.indexOf(type) : null,
      payload: { approver: 'bob', reason: type, error: 'boom' },
    }));
    await new GroupCommitAppender(ledger.pool).appendAll(drafts);
    type Row = { trail: Array<{ type: string }>; steps: Record<string, { problem?: string }> };
    const { rows } = await ledger.pool.query<Row>(
      `SELECT s.approval_trail AS trail, s.steps
         FROM writ.operations o CROSS JOIN LATERAL writ.operation_story(o.operation_id, o.chain_id) AS s
        WHERE o.operation_id = $1`,
      [operationId],
    );
    const row = rows[0]!;
    assert.deepEqual(
      row.trail.map((entry) => entry.type),
      types.filter(isApprovalTrailEvent),
    );
    const withProblem = stepTypes.filter((_, index) => row.steps[String(index)]?.problem !== undefined);
    assert.deepEqual(
      withProblem,
      stepTypes.filter((type) => STEP_PROBLEM_TYPES.has(type)),
    );
  });
});
