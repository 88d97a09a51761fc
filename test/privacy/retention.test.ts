import assert from 'node:assert/strict';
import type pg from 'pg';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ensureRetentionSchedule } from '../../src/evidence/schedule.js';
import { placeHold } from '../../src/privacy/holds.js';
import { retentionCutoff } from '../../src/privacy/retention.js';
import { runWrit } from '../support/cli.js';
import { ACCOUNT_NAMES } from '../support/personal-data.js';
import { startWrit, updateTier, waitFor } from '../support/writ.js';

const WITH_RETENTION = {
  ...ACCOUNT_NAMES,
  retention: [
    { class: 'step-states', types: ['step.*'], keep: '30d' },
    { class: 'evidence-access', types: ['evidence.accessed'], keep: '1y' },
  ],
};

const count = async (pool: pg.Pool, where = 'true') =>
  (await pool.query(`SELECT count(*)::int AS n FROM writ.sealed_values WHERE ${where}`)).rows[0].n as number;

describe('retention: values expire by record class, hashes never do, holds keep what they cover', () => {
  test('writ retention apply prunes what a class no longer keeps, holds back what a hold covers, and records both', async (t) => {
    const { ledger, writ } = await startWrit(t, { personalData: WITH_RETENTION });
    const kept = await writ.start(updateTier());
    await writ.result(kept.operationId);
    const expiring = await writ.start(updateTier({}, 'platinum'));
    await writ.result(expiring.operationId);
    await placeHold(ledger.pool, { scope: { operationId: kept.operationId }, reason: 'audit A-3', by: 'legal' });
    const dir = await mkdtemp(join(tmpdir(), 'writ-retention-'));
    const config = join(dir, 'personal.json');
    await writeFile(config, JSON.stringify(WITH_RETENTION));
    const env = { DATABASE_URL: ledger.url };

    const early = await runWrit(['retention', 'apply', '--config', config, '--json'], { env });
    assert.equal(early.code, 0, early.stderr);
    assert.equal(JSON.parse(early.stdout.split('\n')[0]!).pruned, 0, 'nothing is 30 days old yet');

    const stepsOfHeld = await count(ledger.pool, `operation_id = '${kept.operationId}'`);
    const later = new Date(Date.now() + 31 * 86_400_000).toISOString();
    const applied = await runWrit(['retention', 'apply', '--config', config, '--now', later, '--json'], { env });
    assert.equal(applied.code, 0, applied.stderr);
    const [steps, access] = applied.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.equal(steps.heldBack, stepsOfHeld);
    assert.ok(steps.pruned > 0);
    assert.equal(access.pruned, 0);
    assert.equal(await count(ledger.pool, `operation_id = '${expiring.operationId}' AND record_type LIKE 'step.%'`), 0);
    assert.equal(
      await count(ledger.pool, `operation_id = '${kept.operationId}'`),
      stepsOfHeld,
      'the hold kept its values',
    );

    const records = await ledger.pool.query(
      `SELECT record FROM writ.records WHERE event_type = 'retention.applied' ORDER BY seq`,
    );
    assert.equal(records.rows.length, 4, 'one record per class per run, even when nothing expired');
    const last = records.rows.find(
      (row) => row.record.payload.class === 'step-states' && row.record.payload.pruned.length,
    )!;
    assert.equal(last.record.payload.pruned.length, steps.pruned);
    assert.equal(last.record.payload.heldBack.length, stepsOfHeld);
    assert.equal(last.record.actor.id, 'writ-retention');

    const verify = await runWrit(['verify'], { env });
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    const shown = await runWrit(['what-happened', expiring.operationId], { env });
    assert.match(shown.stdout, /expired .* by writ-retention: step-states/);
  });

  test('the writ-retention Schedule applies every class through the worker', async (t) => {
    const { ledger, writ, client, taskQueue } = await startWrit(t, {
      personalData: { ...ACCOUNT_NAMES, retention: [{ class: 'everything', types: ['*'], keep: '1d' }] },
      retentionOnLedger: true,
    });
    await writ.result((await writ.start(updateTier())).operationId);
    const scheduleId = `writ-retention-${taskQueue}`;
    assert.equal(await ensureRetentionSchedule(client, taskQueue, '1h', scheduleId), 'created');
    assert.equal(await ensureRetentionSchedule(client, taskQueue, '1h', scheduleId), 'exists');
    const schedule = client.schedule.getHandle(scheduleId);
    try {
      await schedule.trigger();
      await waitFor('a retention.applied record', async () => {
        const found = await ledger.pool.query(`SELECT 1 FROM writ.records WHERE event_type = 'retention.applied'`);
        return found.rows.length > 0;
      });
    } finally {
      await schedule.delete();
    }
    const record = await ledger.pool.query(`SELECT record FROM writ.records WHERE event_type = 'retention.applied'`);
    assert.equal(record.rows[0].record.payload.class, 'everything');
    assert.deepEqual(
      record.rows[0].record.payload.pruned,
      [],
      'nothing is a day old: the run is on the record all the same',
    );
  });

  test('cutoffs follow the calendar, and a malformed class is refused with what is wrong', async () => {
    const now = new Date('2026-03-31T12:00:00.000Z');
    assert.equal(retentionCutoff('7y', now).toISOString(), '2019-03-31T12:00:00.000Z');
    assert.equal(retentionCutoff('1m', now).toISOString(), '2026-02-28T12:00:00.000Z');
    assert.equal(retentionCutoff('2w', now).toISOString(), '2026-03-17T12:00:00.000Z');
    const dir = await mkdtemp(join(tmpdir(), 'writ-retention-'));
    const config = join(dir, 'bad.json');
    await writeFile(config, JSON.stringify({ retention: [{ class: 'x', types: ['step.*'], keep: 'forever' }] }));
    const refused = await runWrit(['retention', 'apply', '--config', config]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /keep is a number and a unit/);
  });
});
