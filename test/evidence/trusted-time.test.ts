import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import { BatchedCheckpointer } from '../../src/evidence/batched-checkpointer.js';
import { loadSigner } from '../../src/evidence/keys.js';
import { requestTimestamp } from '../../src/evidence/tsa-client.js';
import { runWrit } from '../support/cli.js';
import type { TestLedger } from '../support/db.js';
import { freshLedger } from '../support/db.js';
import { ensureLogins, urlAs } from '../../src/db/logins.js';
import { appendNotes, note, tamper } from '../support/records.js';
import { asRole, refusal } from '../support/roles.js';
import { adminUrl } from '../support/urls.js';
import { keygen } from '../support/signing-key.js';
import type { LocalTsa } from '../support/tsa.js';
import { startLocalTsa } from '../support/tsa.js';

type Context = Parameters<typeof freshLedger>[0];

interface VerifyJson {
  chains: Array<{
    chain: string;
    timestamps: { checked: number; signaturesChecked: boolean; latest: { size: number } | null; unstamped: number[] };
  }>;
  findings: Array<{ code: string; size?: number }>;
}

async function tsaFor(t: Context, name = 'acme'): Promise<LocalTsa> {
  const tsa = await startLocalTsa(name);
  t.after(() => tsa.close());
  return tsa;
}

/** A ledger with a signing key whose checkpoints the given TSA stamps. */
async function stampedLedger(t: Context, tsaUrl: string) {
  const ledger = await freshLedger(t);
  const dir = mkdtempSync(join(tmpdir(), 'writ-time-'));
  const { verifierKey, env: signing } = await keygen(dir);
  const env: Record<string, string> = {
    DATABASE_URL: ledger.url,
    ...signing,
    WRIT_VERIFIER_KEY: verifierKey,
    WRIT_ANCHOR_DIR: join(dir, 'anchors'),
    WRIT_TSA_URL: tsaUrl,
  };
  return { ledger, env, appender: new GroupCommitAppender(ledger.pool) };
}

async function checkpoint(env: Record<string, string>) {
  return runWrit(['checkpoint'], { env });
}

async function verify(env: Record<string, string>, tsaCert: string) {
  const result = await runWrit(['verify', '--json', '--tsa-cert', tsaCert], { env });
  return { ...result, report: JSON.parse(result.stdout) as VerifyJson };
}

function codes(report: VerifyJson): Array<[string, number | undefined]> {
  return report.findings.map((f) => [f.code, f.size]);
}

async function checkpointCount(ledger: TestLedger): Promise<number> {
  return (await ledger.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM writ.checkpoints')).rows[0]!.n;
}

/** Two checkpoints (5 and 8 records), each stamped by the TSA. */
async function twoStampedCheckpoints(t: Context, tsa: LocalTsa) {
  const setup = await stampedLedger(t, tsa.url);
  await appendNotes(setup.appender, 5);
  const first = await checkpoint(setup.env);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.match(first.stdout, /checkpoint at 5 records, root .*, time-stamped \d{4}-\d\d-\d\dT/);
  await setup.appender.appendAll([note(6), note(7), note(8)]);
  const second = await checkpoint(setup.env);
  assert.equal(second.code, 0, second.stdout + second.stderr);
  return setup;
}

describe('trusted time: RFC 3161 time-stamps on checkpoints', () => {
  test('each checkpoint gets a token from the TSA that writ verify checks against the pinned certificate', async (t) => {
    const tsa = await tsaFor(t);
    const { ledger, env } = await twoStampedCheckpoints(t, tsa);
    const rows = await ledger.pool.query<{ size: string; gen_time: Date }>(
      'SELECT size, gen_time FROM writ.checkpoint_timestamps ORDER BY size',
    );
    assert.deepEqual(
      rows.rows.map((r) => Number(r.size)),
      [5, 8],
    );
    assert.ok(rows.rows[0]!.gen_time <= rows.rows[1]!.gen_time);

    const verified = await verify(env, tsa.certFile);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    const timestamps = verified.report.chains[0]!.timestamps;
    assert.deepEqual([timestamps.checked, timestamps.signaturesChecked, timestamps.latest?.size], [2, true, 8]);
    assert.deepEqual(verified.report.findings, []);

    const plain = await runWrit(['verify', '--tsa-cert', tsa.certPem], { env });
    assert.equal(plain.code, 0, plain.stdout + plain.stderr);
    assert.match(plain.stdout, /time-stamps: 2 checked, signatures verified against the pinned TSA; latest 8 stamped/);

    const unusable = await runWrit(['verify', '--tsa-cert', join(tmpdir(), 'no-such-tsa.pem')], { env });
    assert.equal(unusable.code, 2, unusable.stdout + unusable.stderr);
    assert.match(unusable.stderr, /the TSA certificate is unusable: .*no-such-tsa\.pem/);
  });

  test('a token moved onto another checkpoint stamps other bytes and is refused', async (t) => {
    const tsa = await tsaFor(t);
    const { ledger, env } = await twoStampedCheckpoints(t, tsa);
    // The ledger's owner gives checkpoint 8 the token of checkpoint 5.
    await tamper(
      ledger.pool,
      `UPDATE writ.checkpoint_timestamps SET token = (SELECT token FROM writ.checkpoint_timestamps WHERE size = 5)
        WHERE size = 8`,
    );
    const result = await verify(env, tsa.certFile);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.deepEqual(codes(result.report), [['TIMESTAMP_OTHER_BYTES', 8]]);
    assert.match(result.stderr, /time-stamp TIMESTAMP_OTHER_BYTES at checkpoint 8/);

    // Without a pinned certificate the imprint is still checked, from the token alone.
    const unpinned = await runWrit(['verify', '--json'], { env });
    assert.equal(unpinned.code, 1, unpinned.stdout + unpinned.stderr);
    const report = JSON.parse(unpinned.stdout) as VerifyJson;
    assert.equal(report.chains[0]!.timestamps.signaturesChecked, false);
    assert.deepEqual(codes(report), [['TIMESTAMP_OTHER_BYTES', 8]]);
  });

  test('a token that is not an RFC 3161 token is refused as malformed', async (t) => {
    const tsa = await tsaFor(t);
    const { ledger, env } = await twoStampedCheckpoints(t, tsa);
    await tamper(ledger.pool, `UPDATE writ.checkpoint_timestamps SET token = '\\x3003020101'::bytea WHERE size = 5`);
    const result = await verify(env, tsa.certFile);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.deepEqual(codes(result.report), [['TIMESTAMP_MALFORMED', 5]]);
  });

  test('tokens from another time-stamp authority are refused against the pinned one', async (t) => {
    const pinned = await tsaFor(t, 'acme');
    const other = await tsaFor(t, 'mallory');
    const { env } = await twoStampedCheckpoints(t, other);
    const result = await verify(env, pinned.certFile);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.deepEqual(codes(result.report), [
      ['TIMESTAMP_UNTRUSTED', 5],
      ['TIMESTAMP_UNTRUSTED', 8],
    ]);
    // The same tokens verify against the authority that made them: the refusal is the pin's doing.
    const own = await verify(env, other.certFile);
    assert.equal(own.code, 0, own.stdout + own.stderr);
  });

  test('a checkpoint stamped later than the one after it is refused as out of order', async (t) => {
    const tsa = await tsaFor(t);
    const { ledger, env } = await twoStampedCheckpoints(t, tsa);
    // The owner replaces checkpoint 5's token with a genuine one obtained now, after checkpoint 8's.
    const stored = await ledger.pool.query<{ note: string }>('SELECT note FROM writ.checkpoints WHERE size = 5');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const late = await requestTimestamp(tsa.url, stored.rows[0]!.note);
    await tamper(ledger.pool, 'UPDATE writ.checkpoint_timestamps SET token = $1, gen_time = $2 WHERE size = 5', [
      late.token,
      late.genTime,
    ]);
    const result = await verify(env, tsa.certFile);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.deepEqual(codes(result.report), [['TIMESTAMP_OUT_OF_ORDER', 8]]);
  });

  test("the checkpointer's own login stamps; the writer can neither plant nor remove a token", async (t) => {
    const tsa = await tsaFor(t);
    await ensureLogins(adminUrl());
    const { ledger, env, appender } = await stampedLedger(t, tsa.url);
    env.WRIT_CHECKPOINT_DATABASE_URL = urlAs(ledger.url, 'checkpoint');
    await appendNotes(appender, 4);
    const result = await checkpoint(env);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /time-stamped/);

    const token = (await ledger.pool.query<{ token: Buffer }>('SELECT token FROM writ.checkpoint_timestamps')).rows[0]!;
    const planted = await refusal(
      asRole(ledger.pool, 'writ_writer', (client) =>
        client.query(
          `INSERT INTO writ.checkpoint_timestamps (chain_id, size, checkpoint_sha256, gen_time, token)
           VALUES ('main', 4, $1, now(), $2)`,
          [Buffer.alloc(32), token.token],
        ),
      ),
    );
    assert.equal(planted.code, '42501', planted.message);
    const removed = await refusal(
      asRole(ledger.pool, 'writ_writer', (client) => client.query('DELETE FROM writ.checkpoint_timestamps')),
    );
    assert.equal(removed.code, '42501', removed.message);
    const rewritten = await refusal(
      asRole(ledger.pool, 'writ_checkpointer', (client) =>
        client.query('UPDATE writ.checkpoint_timestamps SET gen_time = now()'),
      ),
    );
    assert.equal(rewritten.code, '42501', rewritten.message);
  });

  test("the worker's checkpointer (plugin option checkpoints.tsa) stamps what it signs", async (t) => {
    const tsa = await tsaFor(t);
    const { ledger, env, appender } = await stampedLedger(t, tsa.url);
    await appendNotes(appender, 6);
    const signer = await loadSigner(env.WRIT_SIGNING_KEY!, env.WRIT_KEY_NAME);
    const checkpointer = new BatchedCheckpointer(ledger.pool, {
      signer,
      origin: env.WRIT_LOG_ORIGIN!,
      anchors: [],
      tsa: { url: tsa.url },
    });
    const [written] = await checkpointer.now();
    await checkpointer.close();
    assert.equal(written?.size, 6);
    assert.match(written?.genTime ?? '', /^\d{4}-\d\d-\d\dT/);
    const verified = await verify(env, tsa.certFile);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.equal(verified.report.chains[0]!.timestamps.latest?.size, 6);
  });

  for (const [mode, expected] of [
    ['garbage', /not time-stamped: time-stamp authority http:\S+ answered something that is not a TimeStampResp/],
    ['error500', /not time-stamped: time-stamp authority http:\S+ did not answer: HTTP 500/],
  ] as const) {
    test(`a TSA answering ${mode} is a clear error, and the checkpoint still stands`, async (t) => {
      const tsa = await tsaFor(t);
      tsa.mode = mode;
      const { ledger, env, appender } = await stampedLedger(t, tsa.url);
      await appendNotes(appender, 3);
      const result = await checkpoint(env);
      assert.notEqual(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stderr, expected);
      assert.equal(await checkpointCount(ledger), 1);
      assert.equal((await ledger.pool.query('SELECT 1 FROM writ.checkpoint_timestamps')).rowCount, 0);
      const verified = await verify(env, tsa.certFile);
      assert.equal(verified.code, 0, verified.stdout + verified.stderr);
      assert.deepEqual(verified.report.chains[0]!.timestamps.unstamped, [3]);

      // Once the TSA answers again, the next run stamps the same checkpoint.
      tsa.mode = 'ok';
      const retried = await checkpoint(env);
      assert.equal(retried.code, 0, retried.stdout + retried.stderr);
      assert.equal((await ledger.pool.query('SELECT 1 FROM writ.checkpoint_timestamps WHERE size = 3')).rowCount, 1);
    });
  }

  test('a TSA that is not listening is a clear error, and the checkpoint still stands', async (t) => {
    const port = await freePort();
    const { ledger, env, appender } = await stampedLedger(t, `http://127.0.0.1:${port}/tsa`);
    await appendNotes(appender, 2);
    const result = await checkpoint(env);
    assert.notEqual(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stderr, /not time-stamped: time-stamp authority http:\S+ did not answer: ECONNREFUSED/);
    assert.equal(await checkpointCount(ledger), 1);
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
