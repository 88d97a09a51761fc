import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import { prepareRecord } from '../../src/ledger/record.js';
import { personalDataRules } from '../../src/privacy/personal-rules.js';
import { PersonalDataSealer } from '../../src/privacy/sealer.js';
import { disclosureMatches, sealedPlaces } from '../../src/verify/sealed.js';
import { postgresConnector } from '../../src/connectors/postgres/index.js';
import { withHooks } from '../support/hooked-connector.js';
import { runWrit } from '../support/cli.js';
import { ACCOUNT_NAMES } from '../support/personal-data.js';
import { freshLedger } from '../support/db.js';
import { asRole, refusal } from '../support/roles.js';
import { startWrit, updateTier } from '../support/writ.js';

describe('personal values are sealed: the ledger holds commitments, the values live beside it', () => {
  test('a governed write leaves no personal value in any hashed byte, and each commitment opens to its value', async (t) => {
    const { ledger, writ } = await startWrit(t, { personalData: ACCOUNT_NAMES });
    const started = await writ.start(updateTier());
    assert.equal((await writ.result(started.operationId)).outcome, 'succeeded');

    const records = await ledger.pool.query<{
      canonical: Buffer;
      idempotency_key: string;
      record: { payload: unknown };
    }>(`SELECT canonical, idempotency_key, record FROM writ.records WHERE operation_id = $1`, [started.operationId]);
    for (const row of records.rows) {
      const text = row.canonical.toString('utf8');
      for (const personal of ['Acme', 'silver', 'gold'])
        assert.ok(!text.includes(personal), `${personal} reached hashed bytes: ${text}`);
    }
    const places = records.rows.flatMap((row) =>
      sealedPlaces(row.record.payload).map((place) => ({ ...place, key: row.idempotency_key })),
    );
    assert.ok(places.length >= 6, `before, after, observed and expected hold sealed members (${places.length})`);

    const values = await ledger.pool.query<{
      commitment: string;
      idempotency_key: string;
      pointer: string;
      salt: string;
      value: string;
      subject: string;
    }>(
      `SELECT encode(commitment, 'hex') AS commitment, idempotency_key, pointer, salt, value, subject FROM writ.sealed_values`,
    );
    assert.equal(values.rows.length, places.length, 'one stored value per marker, no more');
    for (const place of places) {
      const row = values.rows.find((v) => v.commitment === place.commitment)!;
      assert.ok(row, `commitment ${place.commitment} has its value`);
      assert.equal(row.pointer, place.pointer);
      assert.equal(row.idempotency_key, place.key);
      assert.equal(row.subject, 'account:public.accounts/42');
      assert.ok(
        disclosureMatches({ salt: row.salt, pointer: row.pointer, value: JSON.parse(row.value) }, place.commitment),
      );
      assert.ok(Buffer.from(row.salt, 'base64url').length >= 16, 'at least 128 bits of salt');
    }
    assert.equal(new Set(values.rows.map((v) => v.salt)).size, values.rows.length, 'every value has its own salt');
    const tiers = values.rows.filter((v) => v.pointer.endsWith('/tier')).map((v) => JSON.parse(v.value));
    assert.ok(tiers.includes('silver') && tiers.includes('gold'));

    const verify = await runWrit(['verify'], { env: { DATABASE_URL: ledger.url } });
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  });

  test('a failed verification quoting the values is sealed too, and shown opened to whoever reads what happened', async (t) => {
    const { ledger, writ } = await startWrit(t, {
      personalData: ACCOUNT_NAMES,
      connectors: (l) => [
        withHooks(postgresConnector({ pool: l.pool, allowLedgerDatabase: true }), {
          beforeVerify: async () => {
            await l.pool.query(`UPDATE accounts SET tier = 'bronze' WHERE id = 42`);
          },
        }),
      ],
    });
    const started = await writ.start(updateTier());
    assert.equal((await writ.result(started.operationId)).outcome, 'rolled_back');
    const failed = await ledger.pool.query<{ canonical: Buffer; record: { payload: { reason: unknown } } }>(
      `SELECT canonical, record FROM writ.records WHERE operation_id = $1 AND event_type = 'step.verification_failed'`,
      [started.operationId],
    );
    const text = failed.rows[0]!.canonical.toString('utf8');
    assert.ok(!/bronze|gold/.test(text), `the reason quoting the values is not in hashed bytes: ${text}`);
    assert.ok(sealedPlaces(failed.rows[0]!.record.payload).some((place) => place.pointer === '/reason'));
    const shown = await runWrit(['what-happened', started.operationId, '--timeline'], {
      env: { DATABASE_URL: ledger.url },
    });
    assert.match(
      shown.stdout,
      /failed verification: row 42 of public\.accounts does not hold what was asked: tier asked "gold", holds "bronze"/,
    );
  });

  test('a retried append of the same sealed event is the same record; a changed value is a key conflict', async (t) => {
    const ledger = await freshLedger(t);
    const rules = personalDataRules({ actors: { fields: ['note'], subject: 'person:{actor}' } });
    const appender = new GroupCommitAppender(ledger.pool, { sealer: new PersonalDataSealer(ledger.pool, rules) });
    const draft = {
      type: 'manual.note',
      idempotencyKey: 'manual/n1',
      actor: { id: 'carol', kind: 'user' as const, groups: [] },
      payload: { note: 'carol@example.com asked for this', ticket: 'T-1' },
    };
    const first = await appender.append(draft);
    const again = await appender.append(draft);
    assert.equal(again.duplicate, true);
    assert.equal(again.seq, first.seq);
    assert.equal(
      (again.earlier!.payload as { note: string }).note,
      draft.payload.note,
      'the retry sees the value, not the marker',
    );
    await assert.rejects(
      appender.append({ ...draft, payload: { ...draft.payload, note: 'someone else' } }),
      (error: Error & { code?: string }) => error.code === 'LEDGER_KEY_CONFLICT',
    );
    // The conflict record keeps the refused note in full: sealed again, under the same subject.
    const stored = await ledger.pool.query(
      `SELECT subject, record_type, pointer, value FROM writ.sealed_values ORDER BY occurred_at, record_type`,
    );
    assert.deepEqual(
      stored.rows.map((row) => [row.subject, row.record_type, row.pointer, JSON.parse(row.value)]),
      [
        ['person:carol', 'manual.note', '/note', draft.payload.note],
        ['person:carol', 'ledger.key_conflict', '/rejected/record/payload/note', 'someone else'],
      ],
    );
  });

  test('a caller cannot plant a marker of its own, and an unknown or reserved field in the configuration is refused', async (t) => {
    const ledger = await freshLedger(t);
    await assert.rejects(
      new GroupCommitAppender(ledger.pool).append({
        type: 'manual.note',
        actor: { id: 'mallory', kind: 'user', groups: [] },
        payload: { note: { 'writ:sealed': 'a'.repeat(64) } },
      }),
      /"writ:sealed" is reserved/,
    );
    assert.throws(() => personalDataRules({ actors: { fields: ['reason'] } }), /Writ's checks read/);
    assert.throws(() => personalDataRules({ targets: [{ connector: 'postgres', fields: ['x'] }] }), /target/);
    assert.throws(
      () => personalDataRules({ targets: [{ connector: 'postgres', target: '*', fields: ['x'], subject: '{who}' }] }),
      /may use only \{connector\}, \{target\}/,
    );
  });

  test('the writer role cannot change, delete or plant values: only a record that says why removes one', async (t) => {
    const { ledger, writ } = await startWrit(t, { personalData: ACCOUNT_NAMES });
    const started = await writ.start(updateTier());
    await writ.result(started.operationId);
    const [victim] = (
      await ledger.pool.query<{ commitment: Buffer; chain_id: string; idempotency_key: string; pointer: string }>(
        `SELECT commitment, chain_id, idempotency_key, pointer FROM writ.sealed_values LIMIT 1`,
      )
    ).rows;
    await asRole(ledger.pool, 'writ_writer', async (client) => {
      const update = await refusal(
        client.query(`UPDATE writ.sealed_values SET value = '"Initech"' WHERE commitment = $1`, [victim!.commitment]),
      );
      assert.match(update.message, /permission denied|never changed/);
      const remove = await refusal(
        client.query(`DELETE FROM writ.sealed_values WHERE commitment = $1`, [victim!.commitment]),
      );
      assert.match(remove.message, /permission denied/);
      const plant = await refusal(
        client.query(
          `INSERT INTO writ.sealed_values (commitment, chain_id, idempotency_key, pointer, subject, salt, value, record_type, occurred_at)
           VALUES ($1, $2, $3, '/before/state/email', 'x', $4, '"x"', 'step.executed', now())`,
          [Buffer.alloc(32, 7), victim!.chain_id, victim!.idempotency_key, 'A'.repeat(43)],
        ),
      );
      assert.match(plant.message, /no record .* holds commitment/);
      // Nor may it claim an erasure nobody made.
      const claim = prepareRecord({
        type: 'privacy.erased',
        actor: { id: 'dpo', kind: 'user', groups: [] },
        payload: { subject: 'account:public.accounts/42', reason: 'forged', erased: [] },
      });
      const forged = await refusal(client.query(`INSERT INTO writ.records (canonical) VALUES ($1)`, [claim.canonical]));
      assert.match(forged.message, /row-level security/);
    });
    await asRole(ledger.pool, 'writ_custodian', async (client) => {
      const bare = await refusal(
        client.query(`DELETE FROM writ.sealed_values WHERE commitment = $1`, [victim!.commitment]),
      );
      assert.match(bare.message, /only under a privacy.erased or retention.applied record/);
    });
    const still = await ledger.pool.query(`SELECT count(*)::int AS n FROM writ.sealed_values WHERE commitment = $1`, [
      victim!.commitment,
    ]);
    assert.equal(still.rows[0].n, 1);
  });
});
