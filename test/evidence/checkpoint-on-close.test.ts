import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { directorySink } from '../../src/evidence/anchors.js';
import { verifyCheckpoint } from '../../src/verify/checkpoint.js';
import { generateSigningKey } from '../../src/evidence/keys.js';
import { parseVerifierKey } from '../../src/verify/note.js';
import { ensureCheckpointSchedule } from '../../src/evidence/schedule.js';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import { appendNotes } from '../support/records.js';
import { startWrit, updateTier } from '../support/writ.js';

function signing() {
  const key = generateSigningKey('test-log');
  const dir = mkdtempSync(join(tmpdir(), 'writ-anchor-'));
  return {
    checkpoints: {
      signer: { name: 'test-log', privateKey: createPrivateKey(key.privateKeyPem) },
      origin: 'test.example/writ',
      anchors: [directorySink(dir)],
      batchMs: 200,
    },
    verifier: parseVerifierKey(key.verifierKey),
    dir,
  };
}

async function waitFor<T>(what: string, probe: () => Promise<T | null>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('checkpoints are written without anyone asking', () => {
  test('when an operation closes, a signed, anchored checkpoint soon covers all its records', async (t) => {
    const { checkpoints, verifier, dir } = signing();
    const { ledger, writ } = await startWrit(t, { checkpoints });
    const { operationId } = await writ.start(updateTier());
    await writ.result(operationId);
    const last = (
      await ledger.pool.query('SELECT max(seq)::int AS seq FROM writ.records WHERE operation_id = $1', [operationId])
    ).rows[0].seq;
    const row = await waitFor(
      'a checkpoint covering the operation',
      async () =>
        (
          await ledger.pool.query(
            'SELECT size, note FROM writ.checkpoints WHERE size >= $1 ORDER BY size DESC LIMIT 1',
            [last],
          )
        ).rows[0] ?? null,
    );
    const verdict = verifyCheckpoint(row.note, verifier, { origin: 'test.example/writ/main' });
    assert.equal(verdict.ok, true);
    // Anchoring follows the insert, so the file may land a moment after the row.
    const anchored = `${String(row.size).padStart(16, '0')}.checkpoint`;
    await waitFor('the checkpoint in the directory anchor', async () => {
      try {
        return readdirSync(join(dir, 'main')).includes(anchored) ? true : null;
      } catch {
        return null;
      }
    });
  });

  test('a Temporal Schedule checkpoints records no operation closed (manual ones)', async (t) => {
    const { checkpoints } = signing();
    const { ledger, client, taskQueue } = await startWrit(t, { checkpoints });
    const scheduleId = `writ-checkpoints-${taskQueue}`;
    assert.equal(await ensureCheckpointSchedule(client, taskQueue, '1s', scheduleId), 'created');
    assert.equal(
      await ensureCheckpointSchedule(client, taskQueue, '1s', scheduleId),
      'exists',
      'starting a second worker does not add a second schedule',
    );
    try {
      await appendNotes(new GroupCommitAppender(ledger.pool), 4);
      const row = await waitFor(
        'a scheduled checkpoint',
        async () => (await ledger.pool.query('SELECT size FROM writ.checkpoints WHERE size >= 4')).rows[0] ?? null,
      );
      assert.ok(Number(row.size) >= 4);
    } finally {
      await client.schedule.getHandle(scheduleId).delete();
    }
  });
});
