import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { postgresConnector } from '../../src/connectors/postgres/index.js';
import type { Connector } from '../../src/connectors/types.js';
import { ledgerEvents, startWrit, updateTier } from '../support/writ.js';

// The commit itself: the only events whose payload may differ between a dry run and a real run.
const COMMIT_EVENTS = new Set(['step.executing', 'step.executed', 'step.verified']);

describe('dry-run equivalence', () => {
  test('a dry run and a real run of the same request leave the same trail except the commit, and the dry run changes nothing', async (t) => {
    const { ledger, writ } = await startWrit(t);
    const rowBefore = (await ledger.pool.query('SELECT to_jsonb(a) AS row FROM accounts a WHERE id = 42')).rows[0].row;

    const dry = await writ.start(updateTier({ mode: 'dry-run' }));
    assert.equal((await writ.result(dry.operationId)).outcome, 'dry_run');
    assert.deepEqual(
      (await ledger.pool.query('SELECT to_jsonb(a) AS row FROM accounts a WHERE id = 42')).rows[0].row,
      rowBefore,
      'the dry run wrote nothing',
    );

    const real = await writ.start(updateTier());
    assert.equal((await writ.result(real.operationId)).outcome, 'succeeded');

    const dryTrail = await ledgerEvents(ledger, dry.operationId);
    const realTrail = await ledgerEvents(ledger, real.operationId);
    assert.deepEqual(
      dryTrail.map((e) => [e.type, e.state, e.stepIndex]),
      realTrail.map((e) => [e.type, e.state, e.stepIndex]),
      'same events, same states, same order',
    );

    const withoutIdentity = (payload: Record<string, unknown>) => {
      const {
        approvalDigest: _d,
        envelope,
        outcome: _o,
        ...rest
      } = payload as Record<string, unknown> & { envelope?: Record<string, unknown> };
      if (!envelope) return rest;
      const {
        operationId: _id,
        traceparent: _tp,
        correlationId: _c,
        requestedAt: _at,
        mode: _m,
        ...sameEnvelope
      } = envelope;
      return { ...rest, envelope: sameEnvelope };
    };
    dryTrail.forEach((dryEvent, index) => {
      const realEvent = realTrail[index]!;
      if (COMMIT_EVENTS.has(dryEvent.type)) return;
      assert.deepEqual(
        withoutIdentity(dryEvent.payload),
        withoutIdentity(realEvent.payload),
        `${dryEvent.type} is the same in both runs`,
      );
    });
    const decided = (trail: typeof dryTrail) => trail.find((e) => e.type === 'policy.decided')!.payload;
    assert.deepEqual(decided(dryTrail), decided(realTrail), 'the same policy decision');

    const preview = dryTrail.find((e) => e.type === 'step.executed')!.payload as {
      dryRun: boolean;
      wouldChange: { before: { tier: string }; after: { tier: string } };
    };
    assert.equal(preview.dryRun, true);
    assert.equal(preview.wouldChange.before.tier, 'silver');
    assert.equal(preview.wouldChange.after.tier, 'gold');
    assert.equal(dryTrail.at(-1)!.payload.outcome, 'dry_run');
  });

  test('a dry run refuses an action that cannot promise to have no side effect', async (t) => {
    const { ledger, writ } = await startWrit(t, {
      connectors: (l) => {
        const base = postgresConnector({ pool: l.pool, allowLedgerDatabase: true });
        const noisy: Connector = {
          ...base,
          actions: {
            ...base.actions,
            update: { ...base.actions.update!, contract: { ...base.actions.update!.contract, sideEffects: 'some' } },
          },
        };
        return [noisy];
      },
    });
    const dry = await writ.start(updateTier({ mode: 'dry-run' }));
    assert.equal((await writ.result(dry.operationId)).outcome, 'invalid');
    const failed = (await ledgerEvents(ledger, dry.operationId)).find((e) => e.type === 'operation.validation_failed');
    assert.match(
      JSON.stringify(failed?.payload.problems),
      /dry run refused: the action has side effects even on a dry run/,
    );
  });
});
