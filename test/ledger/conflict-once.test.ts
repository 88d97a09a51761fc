import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type pg from 'pg';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import { PersonalDataSealer } from '../../src/privacy/sealer.js';
import { personalDataRules } from '../../src/privacy/personal-rules.js';
import { verifyStoredLedger } from '../../src/ledger/reader.js';
import { freshLedger } from '../support/db.js';
import { plantAsWriter } from '../support/planted.js';

const workflow = { workflowId: 'op-1', runId: 'run-1', activityAttempt: 1 };
const resolved = (by: string, extra: object = {}) => ({
  type: 'operation.resolved',
  operationId: 'op-1',
  stepIndex: null,
  state: 'resolved_manually',
  actor: { id: by, kind: 'user' as const, groups: [] },
  idempotencyKey: 'wf/op-1/operation.resolved/-/0',
  workflow,
  payload: { action: 'set tier back' },
  ...extra,
});

interface Refusal {
  code?: string;
  conflict: { recorded: { seq: number }; existing: { seq: number } };
}

async function refusalOf(append: Promise<unknown>): Promise<Refusal> {
  try {
    await append;
  } catch (error) {
    assert.equal((error as Refusal).code, 'LEDGER_KEY_CONFLICT', String(error));
    return error as Refusal;
  }
  assert.fail('the append was expected to be refused');
}

async function conflictRecords(pool: pg.Pool) {
  const rows = await pool.query(
    `SELECT seq, idempotency_key, record FROM writ.records WHERE event_type = 'ledger.key_conflict' ORDER BY seq`,
  );
  return rows.rows.map((row) => ({ seq: Number(row.seq), key: row.idempotency_key as string, record: row.record }));
}

describe('a refusal is recorded once per refused event, and no one can pre-empt its record', () => {
  test('when the same refused record is offered again by a later attempt, the refusal already recorded is named, not recorded twice', async (t) => {
    const { pool } = await freshLedger(t);
    const appender = new GroupCommitAppender(pool);
    const holder = await appender.append(resolved('mallory'));
    const first = await refusalOf(appender.append(resolved('dana')));
    // What a workflow task run again sends: the same event, from a new attempt, at a later time.
    const again = await refusalOf(
      appender.append(
        resolved('dana', { workflow: { ...workflow, activityAttempt: 2 }, occurredAt: '2030-01-01T00:00:00.000Z' }),
      ),
    );
    const conflicts = await conflictRecords(pool);
    assert.equal(conflicts.length, 1, 'one refusal of one event');
    assert.equal(first.conflict.existing.seq, holder.seq);
    assert.equal(again.conflict.recorded.seq, first.conflict.recorded.seq, 'the retry is told where its refusal is');
    assert.equal(conflicts[0]!.record.payload.rejected.record.actor.id, 'dana');
    const [verdict] = await verifyStoredLedger(pool);
    assert.equal(verdict?.ok, true);
  });

  test('when two different records are refused under one key, each is on the record with what it meant to say', async (t) => {
    const { pool } = await freshLedger(t);
    const appender = new GroupCommitAppender(pool);
    await appender.append(resolved('mallory'));
    const dana = await refusalOf(appender.append(resolved('dana')));
    const erin = await refusalOf(appender.append(resolved('erin')));
    const conflicts = await conflictRecords(pool);
    assert.deepEqual(
      conflicts.map((c) => c.record.payload.rejected.record.actor.id),
      ['dana', 'erin'],
    );
    assert.notEqual(dana.conflict.recorded.seq, erin.conflict.recorded.seq);
    // And each, offered again, finds its own refusal.
    const erinAgain = await refusalOf(
      appender.append(resolved('erin', { workflow: { ...workflow, activityAttempt: 2 } })),
    );
    assert.equal(erinAgain.conflict.recorded.seq, erin.conflict.recorded.seq);
    assert.equal((await conflictRecords(pool)).length, 2);
  });

  test('when writ_writer plants records under the key a refusal would take, the refusal is still recorded in full', async (t) => {
    const { pool } = await freshLedger(t);
    const appender = new GroupCommitAppender(pool);
    const holder = await appender.append(resolved('mallory'));
    // Every key a conflict of this holder would be filed under can be guessed; each gets a note.
    const guessable = [1, 2, 3, 4].map((n) => `ledger/key-conflict/seq/${holder.seq}${n === 1 ? '' : `/${n}`}`);
    for (const key of guessable)
      await plantAsWriter(pool, {
        operationId: 'op-1',
        type: 'manual.note',
        idempotencyKey: key,
        actor: { id: 'mallory', kind: 'user', groups: [] },
        payload: { message: 'nothing was refused' },
      });
    const refused = await refusalOf(appender.append(resolved('dana')));
    let conflicts = await conflictRecords(pool);
    assert.equal(conflicts.length, 1);
    assert.equal(conflicts[0]!.seq, refused.conflict.recorded.seq);
    assert.match(
      conflicts[0]!.key,
      /^ledger\/key-conflict\/[0-9a-f-]{36}$/,
      'filed under the refused event, not a guessable key',
    );
    assert.equal(conflicts[0]!.record.payload.rejected.record.actor.id, 'dana');

    const { pool: other } = await freshLedger(t);
    const otherAppender = new GroupCommitAppender(other);
    const otherHolder = await otherAppender.append(resolved('mallory'));
    const forgedConflict = (key: string, refusedBy: string, holderHash: string) =>
      plantAsWriter(other, {
        operationId: 'op-1',
        type: 'ledger.key_conflict',
        idempotencyKey: key,
        actor: { id: 'writ-ledger', kind: 'service', groups: [] },
        payload: {
          idempotencyKey: 'wf/op-1/operation.resolved/-/0',
          differences: ['actor'],
          existing: { seq: otherHolder.seq, hash: holderHash, eventId: otherHolder.eventId },
          rejected: {
            sha256: '0'.repeat(64),
            // As the ledger would have written the refused record, down to the members a retry may change.
            record: resolved(refusedBy, { v: 1, chain: 'main', correlationId: null, eventId: randomUUID() }),
          },
        },
      });
    const seqKey = `ledger/key-conflict/seq/${otherHolder.seq}`;
    // One names someone else's refusal; the other this very refusal, against a holder not the one on record.
    await forgedConflict(seqKey, 'nobody', otherHolder.hash);
    await forgedConflict(`${seqKey}/2`, 'dana', 'f'.repeat(64));
    const refusedToo = await refusalOf(otherAppender.append(resolved('dana')));
    conflicts = await conflictRecords(other);
    assert.deepEqual(
      conflicts.map((c) => [c.key, c.record.payload.rejected.record.actor.id, c.record.payload.existing.hash]),
      [
        [seqKey, 'nobody', otherHolder.hash],
        [`${seqKey}/2`, 'dana', 'f'.repeat(64)],
        [`${seqKey}/3`, 'dana', otherHolder.hash],
      ],
      'neither forged refusal is taken for the real one',
    );
    assert.equal(conflicts[2]!.seq, refusedToo.conflict.recorded.seq);
  });

  test('when a refused record with personal values is offered again, its refusal is found under the values sealed the first time', async (t) => {
    const ledger = await freshLedger(t);
    const rules = personalDataRules({ actors: { fields: ['note'], subject: 'person:{actor}' } });
    const appender = new GroupCommitAppender(ledger.pool, { sealer: new PersonalDataSealer(ledger.pool, rules) });
    const draft = {
      type: 'manual.note',
      idempotencyKey: 'manual/n1',
      actor: { id: 'carol', kind: 'user' as const, groups: [] },
      payload: { note: 'carol@example.com asked for this' },
    };
    await appender.append(draft);
    const changed = { ...draft, payload: { note: 'someone else' } };
    const first = await refusalOf(appender.append(changed));
    const again = await refusalOf(appender.append(changed));
    assert.equal(again.conflict.recorded.seq, first.conflict.recorded.seq);
    assert.equal((await conflictRecords(ledger.pool)).length, 1);
  });
});
