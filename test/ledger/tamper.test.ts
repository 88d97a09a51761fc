import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import { canonicalBytes } from '../../src/verify/canonical.js';
import { verifyStoredLedger } from '../../src/ledger/reader.js';
import { freshLedger } from '../support/db.js';
import { appendNotes, tamper } from '../support/records.js';

async function ledgerWithTenRecords(t: Parameters<typeof freshLedger>[0]) {
  const ledger = await freshLedger(t);
  await appendNotes(new GroupCommitAppender(ledger.pool), 10);
  const [before] = await verifyStoredLedger(ledger.pool);
  assert.equal(before?.ok, true, 'the untouched ledger verifies');
  assert.equal(before?.records, 10);
  return ledger;
}

/** Both reading modes must name the same first bad record. */
async function firstDamage(pool: Parameters<typeof verifyStoredLedger>[0]) {
  const [quick, deep] = await Promise.all([verifyStoredLedger(pool), verifyStoredLedger(pool, { deep: true })]);
  const damaged = quick.find((verdict) => !verdict.ok);
  assert.ok(damaged, 'the damage is detected');
  assert.deepEqual(deep.find((verdict) => !verdict.ok)?.damage, damaged.damage, 'deep verification agrees');
  return damaged.damage!;
}

describe("when someone with database access edits the ledger behind Writ's back", () => {
  test('an edited payload in the stored record is named at its sequence number', async (t) => {
    const { pool } = await ledgerWithTenRecords(t);
    await tamper(
      pool,
      `UPDATE writ.records SET record = jsonb_set(record, '{payload,message}', '"nothing to see"') WHERE seq = 4`,
    );
    const damage = await firstDamage(pool);
    assert.equal(damage.seq, 4);
    assert.equal(damage.code, 'COPY_MISMATCH');
    assert.match(damage.detail, /payload\.message/);
  });

  test('edited canonical bytes with the hash left alone are a hash mismatch at that record', async (t) => {
    const { pool } = await ledgerWithTenRecords(t);
    await tamper(
      pool,
      `UPDATE writ.records SET canonical = convert_to(replace(convert_from(canonical, 'UTF8'), 'note 6', 'note X'), 'UTF8') WHERE seq = 6`,
    );
    const damage = await firstDamage(pool);
    assert.equal(damage.seq, 6);
    assert.equal(damage.code, 'HASH_MISMATCH');
  });

  test('an edited hash is named at its record, before the broken link that follows it', async (t) => {
    const { pool } = await ledgerWithTenRecords(t);
    await tamper(pool, `UPDATE writ.records SET hash = digest('forged', 'sha256') WHERE seq = 3`);
    const damage = await firstDamage(pool);
    assert.equal(damage.seq, 3);
    assert.equal(damage.code, 'HASH_MISMATCH');
  });

  test('a deleted middle record is a gap naming the missing sequence number', async (t) => {
    const { pool } = await ledgerWithTenRecords(t);
    await tamper(pool, 'DELETE FROM writ.records WHERE seq = 5');
    const damage = await firstDamage(pool);
    assert.equal(damage.seq, 5);
    assert.equal(damage.code, 'RECORD_MISSING');
  });

  test('a forged record inserted with the trigger disabled breaks the link at its sequence number', async (t) => {
    const { pool } = await ledgerWithTenRecords(t);
    const forged = canonicalBytes({
      v: 1,
      chain: 'main',
      eventId: 'forged',
      idempotencyKey: 'forged',
      type: 'step.executed',
      operationId: null,
      correlationId: null,
      traceparent: null,
      stepIndex: null,
      state: null,
      actor: { id: 'mallory', kind: 'user', groups: [] },
      occurredAt: '2026-01-01T00:00:00.000Z',
      workflow: null,
      payload: {},
    });
    const fakePrev = Buffer.alloc(32, 7);
    const selfConsistentHash = createHash('sha256').update(fakePrev).update(forged).digest();
    await tamper(
      pool,
      `INSERT INTO writ.records (seq, canonical, record, prev_hash, hash, recorded_at)
                        VALUES (11, $1, convert_from($1, 'UTF8')::jsonb, $2, $3, now())`,
      [forged, fakePrev, selfConsistentHash],
    );
    const damage = await firstDamage(pool);
    assert.equal(damage.seq, 11);
    assert.equal(damage.code, 'CHAIN_LINK_BROKEN');
  });

  test('two records whose order was swapped break the link at the first of them', async (t) => {
    const { pool } = await ledgerWithTenRecords(t);
    await tamper(pool, 'UPDATE writ.records SET seq = seq + 1000000 WHERE seq IN (7, 8)');
    await tamper(
      pool,
      'UPDATE writ.records SET seq = CASE WHEN seq = 1000007 THEN 8 ELSE 7 END WHERE seq IN (1000007, 1000008)',
    );
    const damage = await firstDamage(pool);
    assert.equal(damage.seq, 7);
    assert.equal(damage.code, 'CHAIN_LINK_BROKEN');
  });
});
