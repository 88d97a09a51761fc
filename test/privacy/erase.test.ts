import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { findEvidence } from '../../src/evidence/what-happened/index.js';
import { verifyLedger } from '../../src/evidence/ledger-check.js';
import { placeHold, releaseHold } from '../../src/privacy/holds.js';
import { eraseSubject } from '../../src/privacy/erase.js';
import { runWrit } from '../support/cli.js';
import { keygen } from '../support/signing-key.js';
import { asRole, refusal } from '../support/roles.js';
import { startWrit, updateTier } from '../support/writ.js';
import { ACCOUNT_NAMES } from '../support/personal-data.js';

const SUBJECT = 'account:public.accounts/42';

describe('writ erase: personal values go, every hash and proof stays', () => {
  test('after erasure the chain, the checkpoints and a bundle exported before still verify; what-happened says who erased what and why', async (t) => {
    const { ledger, writ } = await startWrit(t, { personalData: ACCOUNT_NAMES });
    const started = await writ.start(updateTier());
    await writ.result(started.operationId);
    const dir = await mkdtemp(join(tmpdir(), 'writ-erase-'));
    const { verifierKey, env: signing } = await keygen(dir);
    const env = { DATABASE_URL: ledger.url, ...signing, WRIT_ANCHOR_DIR: join(dir, 'anchors'), WRIT_VERIFIER_KEY: '' };
    const exported = await runWrit(['export', started.operationId, '--out', join(dir, 'before')], { env });
    assert.equal(exported.code, 0, exported.stdout + exported.stderr);
    const bundled = (await readFile(join(dir, 'before', 'records.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => Buffer.from((JSON.parse(line) as { canonical: string }).canonical, 'base64').toString('utf8'))
      .join('\n');
    assert.ok(
      bundled.includes('writ:sealed') && !bundled.includes('silver'),
      'a bundle carries commitments, not values',
    );
    const before = await findEvidence(ledger.pool, started.operationId, { timeline: true });
    assert.match(JSON.stringify(before), /silver/, 'before erasure the value is shown');

    const erased = await runWrit(
      ['erase', '--subject', SUBJECT, '--reason', 'GDPR art. 17 request R-7', '--by', 'dpo'],
      { env },
    );
    assert.equal(erased.code, 0, erased.stdout + erased.stderr);
    assert.match(erased.stdout, /erased \d+ value\(s\) of subject account:public\.accounts\/42/);

    const left = await ledger.pool.query(`SELECT count(*)::int AS n FROM writ.sealed_values WHERE subject = $1`, [
      SUBJECT,
    ]);
    assert.equal(left.rows[0].n, 0);
    const record = await ledger.pool.query(`SELECT record FROM writ.records WHERE event_type = 'privacy.erased'`);
    assert.equal(record.rows.length, 1);
    const payload = record.rows[0].record.payload;
    assert.equal(payload.subject, SUBJECT);
    assert.equal(payload.reason, 'GDPR art. 17 request R-7');
    assert.deepEqual(record.rows[0].record.actor, { id: 'dpo', kind: 'user', groups: [], identity: 'asserted' });
    const tombstones = await ledger.pool.query(`SELECT count(*)::int AS n FROM writ.sealed_erasures`);
    assert.equal(tombstones.rows[0].n, payload.erased.length);

    const verify = await runWrit(['verify'], { env });
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    for (const bundle of ['before', 'after']) {
      if (bundle === 'after') {
        const later = await runWrit(['export', started.operationId, '--out', join(dir, bundle)], { env });
        assert.equal(later.code, 0, later.stdout + later.stderr);
      }
      const checked = await runWrit(['verify-bundle', join(dir, bundle), '--verifier-key', verifierKey], { env });
      assert.equal(checked.code, 0, `${bundle}: ${checked.stdout}${checked.stderr}`);
    }

    const after = await findEvidence(ledger.pool, started.operationId, { timeline: true });
    const text = JSON.stringify(after);
    assert.ok(!/silver|Acme/.test(text), 'no erased value is shown');
    assert.match(
      text,
      /erased [^\]]* by dpo: GDPR art\. 17 request R-7/,
      `the step change says erased, when, by whom, why: ${text}`,
    );
    assert.match(text, /"writ:erased":\{"commitment":"[0-9a-f]{64}","state":"erased"/);
    const shown = await runWrit(['what-happened', started.operationId], { env });
    assert.match(shown.stdout, /erased .* by dpo/);
    assert.ok(!shown.stdout.includes('silver'));

    // A superuser deleting a value behind Writ's back (triggers off) is named by writ verify.
    const admin = await ledger.pool.connect();
    try {
      await admin.query(`SET session_replication_role = replica`);
      await admin.query(
        `DELETE FROM writ.sealed_erasures WHERE commitment = (SELECT commitment FROM writ.sealed_erasures LIMIT 1)`,
      );
    } finally {
      await admin.query(`SET session_replication_role = origin`);
      admin.release();
    }
    const caught = await runWrit(['verify', '--json'], { env });
    assert.equal(caught.code, 1, caught.stdout + caught.stderr);
    assert.ok(
      (JSON.parse(caught.stdout) as { findings: Array<{ code: string }> }).findings.some(
        (finding) => finding.code === 'SEALED_VALUE_MISSING',
      ),
    );

    const again = await runWrit(['erase', '--subject', SUBJECT, '--reason', 'again', '--by', 'dpo'], { env });
    assert.equal(again.code, 2, 'an unknown (or already erased) subject is a usage error');
    assert.match(again.stderr, /no personal values are held for subject/);
  });

  test('a subject under legal hold is refused whole, the refusal is recorded, and the database refuses a custodian going around the CLI', async (t) => {
    const { ledger, writ } = await startWrit(t, { personalData: ACCOUNT_NAMES });
    const started = await writ.start(updateTier());
    await writ.result(started.operationId);
    const hold = await placeHold(ledger.pool, {
      scope: { operationId: started.operationId },
      reason: 'litigation L-1',
      by: 'legal',
    });
    const count = async () =>
      (await ledger.pool.query(`SELECT count(*)::int AS n FROM writ.sealed_values`)).rows[0].n as number;
    const held = await count();

    await assert.rejects(
      eraseSubject(ledger.pool, { subject: SUBJECT, reason: 'R-8', by: 'dpo' }),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'UNDER_HOLD');
        assert.match(error.message, new RegExp(`under legal hold ${hold.holdId}`));
        return true;
      },
    );
    assert.equal(await count(), held, 'nothing erased');
    const intact = await verifyLedger(ledger.pool, { origin: 'writ', anchors: [], key: null });
    assert.ok(intact.ok, JSON.stringify(intact.findings));
    const refused = await ledger.pool.query(
      `SELECT record FROM writ.records WHERE event_type = 'privacy.erase_refused'`,
    );
    assert.equal(refused.rows.length, 1);
    assert.deepEqual(refused.rows[0].record.payload.holds, [hold.holdId]);

    // The custodian's own login, writing the erasure record and deleting by hand: the trigger holds.
    await asRole(ledger.pool, 'writ_custodian', async (client) => {
      await client.query('BEGIN');
      const forged = await client.query(`SELECT event_id FROM writ.records WHERE event_type = 'privacy.erase_refused'`);
      await client.query(`SELECT set_config('writ.erasure_event', $1, true)`, [forged.rows[0].event_id]);
      const wrongRecord = await refusal(client.query(`DELETE FROM writ.sealed_values`));
      assert.match(wrongRecord.message, /only under a privacy.erased or retention.applied record/);
      await client.query('ROLLBACK');
    });
    assert.equal(await count(), held);

    await releaseHold(ledger.pool, { holdId: hold.holdId, reason: 'case closed', by: 'legal' });
    const done = await eraseSubject(ledger.pool, { subject: SUBJECT, reason: 'R-8', by: 'dpo' });
    assert.equal(done.values, held);
    assert.equal(await count(), 0);
  });

  test('bad input: missing reason or by, nothing recorded', async (t) => {
    const { ledger } = await startWrit(t, { personalData: ACCOUNT_NAMES });
    const result = await runWrit(['erase', '--subject', SUBJECT, '--reason', ' ', '--by', 'dpo'], {
      env: { DATABASE_URL: ledger.url },
    });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /writ erase needs --reason/);
    const records = await ledger.pool.query(
      `SELECT count(*)::int AS n FROM writ.records WHERE event_type LIKE 'privacy.%'`,
    );
    assert.equal(records.rows[0].n, 0);
    const held = await ledger.pool.query(`SELECT count(*)::int AS n FROM writ.sealed_values`);
    assert.equal(held.rows[0].n, 0, 'no operation ran: nothing to erase, nothing erased');
  });
});
