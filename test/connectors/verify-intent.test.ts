import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ledgerEvents, startWrit, updateTier } from '../support/writ.js';

test("when the target's trigger stores something other than what was asked, verification fails and the write is rolled back", async (t) => {
  const { ledger, writ } = await startWrit(t);
  // The owner of the CRM normalises tiers behind every writer's back.
  await ledger.pool.query(
    `CREATE FUNCTION lower_tier() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.tier := lower(NEW.tier); RETURN NEW; END $$`,
  );
  await ledger.pool.query(
    `CREATE TRIGGER lower_tier BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION lower_tier()`,
  );
  const before = (await ledger.pool.query(`SELECT to_jsonb(a) AS row FROM accounts a WHERE id = 42`)).rows[0].row;

  const { operationId } = await writ.start(updateTier({}, 'GOLD'));
  const result = await writ.result(operationId);
  assert.equal(result.outcome, 'rolled_back');
  assert.deepEqual(
    (await ledger.pool.query(`SELECT to_jsonb(a) AS row FROM accounts a WHERE id = 42`)).rows[0].row,
    before,
    'the row is as it was',
  );

  const events = await ledgerEvents(ledger, operationId);
  const executed = events.find((e) => e.type === 'step.executed')!.payload as { after: { tier: string } };
  assert.equal(executed.after.tier, 'gold', 'the write returned what the trigger stored');
  const failed = events.find((e) => e.type === 'step.verification_failed');
  assert.ok(failed, `verification failed (events: ${events.map((e) => e.type).join(', ')})`);
  assert.equal(
    failed.payload.reason,
    'row 42 of public.accounts does not hold what was asked: tier asked "GOLD", holds "gold"',
  );
  assert.deepEqual(failed.payload.expected, { tier: 'GOLD' });
  assert.ok(
    events.some((e) => e.type === 'step.compensated'),
    'the step was compensated',
  );
});
