import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type pg from 'pg';
import { createPool } from '../../src/db/pool.js';
import { prepareLogins } from '../../src/devstack/logins.js';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import type { BatchReport } from '../../src/ledger/appender.js';
import { chainRouter } from '../../src/ledger/chain-router.js';
import { OperationChains, RoutedAppender } from '../../src/ledger/operation-chains.js';
import { prepareRecord } from '../../src/ledger/record.js';
import { verifyStoredChain } from '../../src/ledger/reader.js';
import { hasCode } from '../../src/model/errors.js';
import { freshLedger } from '../support/db.js';
import { note } from '../support/records.js';
import { refusal } from '../support/roles.js';

type Context = Parameters<typeof freshLedger>[0];

/** A pool on the worker's own login (writ_writer and nothing more), as prepared for writ demo and compose. */
async function writerPool(t: Context, url: string): Promise<pg.Pool> {
  const urls = await prepareLogins(url);
  const pool = createPool(urls.worker, { max: 4, applicationName: 'writ-test-writer' });
  t.after(() => pool.end());
  assert.equal((await pool.query('SELECT current_user AS u')).rows[0].u, 'writ_worker');
  return pool;
}

async function countOn(pool: pg.Pool, chain: string): Promise<number> {
  return (await pool.query('SELECT count(*)::int AS n FROM writ.records WHERE chain_id = $1', [chain])).rows[0].n;
}

/** The canonical bytes of a record, as an insider holding the writer login would insert them by hand. */
function bytesOf(i: number, chain: string, operationId: string | null): Buffer {
  return prepareRecord(note(i, { chain, operationId })).canonical;
}

async function squatOnSecondChain(t: Context): Promise<void> {
  const ledger = await freshLedger(t);
  const writer = await writerPool(t, ledger.url);
  await new GroupCommitAppender(writer).appendAll([note(1, { chain: 'op-0', operationId: 'op-a' })]);

  // Squatting the id on another chain, by hand, with the login's real INSERT privilege.
  const squat = await refusal(
    writer.query('INSERT INTO writ.records (canonical) VALUES ($1)', [bytesOf(2, 'op-1', 'op-a')]),
  );
  assert.equal(squat.code, 'WRT06', squat.message);
  assert.match(squat.message, /operation op-a lives on chain op-0, so a record of it on chain op-1 is refused/);
  // The same through Writ's own appender: a final refusal, not a retryable failure.
  const appended = await refusal(
    new GroupCommitAppender(writer).append(note(3, { chain: 'op-1', operationId: 'op-a' })),
  );
  assert.ok(hasCode(appended, 'INVALID_RECORD'), appended.message);

  // A new operation whose first statement spreads it over two chains is refused as a whole.
  const spread = await refusal(
    writer.query('INSERT INTO writ.records (canonical) VALUES ($1), ($2)', [
      bytesOf(4, 'op-2', 'op-b'),
      bytesOf(5, 'op-3', 'op-b'),
    ]),
  );
  assert.equal(spread.code, 'WRT06', spread.message);

  assert.equal(await countOn(ledger.pool, 'op-1'), 0);
  assert.equal((await countOn(ledger.pool, 'op-2')) + (await countOn(ledger.pool, 'op-3')), 0);
  const row = (await ledger.pool.query("SELECT chain_id, events FROM writ.operations WHERE operation_id = 'op-a'"))
    .rows[0];
  assert.deepEqual(row, { chain_id: 'op-0', events: 1 });
  assert.equal(
    (await ledger.pool.query("SELECT count(*)::int AS n FROM writ.operations WHERE operation_id = 'op-b'")).rows[0].n,
    0,
  );
}

async function raceForFirstRecord(t: Context): Promise<void> {
  const ledger = await freshLedger(t);
  const writer = await writerPool(t, ledger.url);
  const first = await writer.connect();
  const second = await writer.connect();
  let error: { code?: string; message: string } | null;
  try {
    await first.query('BEGIN');
    await first.query('INSERT INTO writ.records (canonical) VALUES ($1)', [bytesOf(1, 'op-0', 'op-race')]);
    await second.query('BEGIN');
    // Neither sees the other's uncommitted row; only the projection row makes the second wait.
    const settled = second
      .query('INSERT INTO writ.records (canonical) VALUES ($1)', [bytesOf(2, 'op-1', 'op-race')])
      .then(
        () => null,
        (failure: { code?: string; message: string }) => failure,
      );
    await new Promise((resolve) => setTimeout(resolve, 300));
    await first.query('COMMIT');
    error = await settled;
    await second.query('ROLLBACK');
  } finally {
    // Released before the test's database is dropped, which would end them mid-use.
    first.release();
    second.release();
  }
  assert.equal(error?.code, 'WRT06', error?.message ?? 'the second chain was accepted');
  assert.equal(await countOn(ledger.pool, 'op-1'), 0);
  assert.equal(await countOn(ledger.pool, 'op-0'), 1);
}

async function proofReplayAcrossChains(t: Context): Promise<void> {
  const ledger = await freshLedger(t);
  const writer = await writerPool(t, ledger.url);
  const use = (chain: string, operationId: string) =>
    prepareRecord({
      type: 'identity.proof_used',
      chain,
      idempotencyKey: `identity/proof/${'a'.repeat(64)}`,
      actor: { id: 'writ', kind: 'service', groups: [] },
      payload: { proofSha256: 'a'.repeat(64), use: 'approve', operationId },
    }).canonical;
  await writer.query('INSERT INTO writ.records (canonical) VALUES ($1)', [use('op-0', 'op-a')]);
  const replay = await refusal(writer.query('INSERT INTO writ.records (canonical) VALUES ($1)', [use('op-1', 'op-b')]));
  assert.equal(replay.code, 'WRT07', replay.message);
  assert.match(replay.message, /already used on chain op-0/);
}

async function fourChainLanes(t: Context): Promise<void> {
  const ledger = await freshLedger(t);
  const batches: BatchReport[] = [];
  const appender = new GroupCommitAppender(ledger.pool, { onBatch: (report) => batches.push(report) });
  const chains = ['op-0', 'op-1', 'op-2', 'op-3'];
  const results = await Promise.all(
    Array.from({ length: 400 }, (_, i) =>
      appender.append(note(i, { chain: chains[i % 4]!, idempotencyKey: `manual/${chains[i % 4]}/${i}` })),
    ),
  );
  for (const chain of chains) {
    const seqs = results
      .filter((r) => r.chain === chain)
      .map((r) => r.seq)
      .sort((a, b) => a - b);
    assert.deepEqual(
      seqs,
      Array.from({ length: 100 }, (_, i) => i + 1),
      `chain ${chain} is gapless`,
    );
    const verdict = await verifyStoredChain(ledger.pool, chain, { deep: true, rootsAt: new Set() });
    assert.ok(verdict.ok, JSON.stringify(verdict));
  }
  for (const batch of batches) {
    const onChains = new Set(batch.idempotencyKeys.map((key) => key.split('/')[1]));
    assert.equal(onChains.size, 1, `a batch held ${[...onChains].join(', ')}`);
  }
}

async function appendAllOverTwoChains(t: Context): Promise<void> {
  const ledger = await freshLedger(t);
  const error = await refusal(
    new GroupCommitAppender(ledger.pool).appendAll([note(1, { chain: 'a' }), note(2, { chain: 'b' })]),
  );
  assert.ok(hasCode(error, 'INVALID_RECORD'));
  assert.match(error.message, /one transaction, which appends to one chain, and these are on 2 \(a, b\)/);
  assert.equal((await ledger.pool.query('SELECT count(*)::int AS n FROM writ.records')).rows[0].n, 0);
}

async function refusedRecordFailsAlone(t: Context): Promise<void> {
  const ledger = await freshLedger(t);
  const appender = new GroupCommitAppender(ledger.pool);
  await appender.append(note(0, { chain: 'b', operationId: 'op-b' }));
  const outcomes = await Promise.allSettled([
    ...Array.from({ length: 5 }, (_, i) => appender.append(note(i + 1, { chain: 'a' }))),
    appender.append(note(9, { chain: 'a', operationId: 'op-b' })),
  ]);
  assert.deepEqual(
    outcomes.map((o) => o.status),
    ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected'],
  );
  assert.equal(await countOn(ledger.pool, 'a'), 5);
}

/** Once a record of an operation is written, its chain is known without asking PostgreSQL again. */
async function chainKeptAfterAppend(t: Context): Promise<void> {
  const ledger = await freshLedger(t);
  let asked = 0;
  const counting = {
    query: (text: string, values: unknown[]) => {
      asked++;
      return ledger.pool.query(text, values);
    },
  };
  const chains = new OperationChains(counting as unknown as pg.Pool, chainRouter('hash:4', 'default'));
  const routed = new RoutedAppender(new GroupCommitAppender(ledger.pool), chains);
  assert.equal(await chains.forOperation('op-1'), 'op-1');
  assert.equal(await chains.forOperation('op-1'), 'op-1');
  assert.equal(asked, 2, 'an operation with no record yet: the ledger is asked every time');
  const placed = await routed.appendAll([note(1, { operationId: 'op-1' }), note(2, { operationId: 'op-2' })]);
  assert.equal(asked, 3, 'placing the records asked once for both');
  assert.equal(await chains.forOperation('op-1'), placed[0]!.chain);
  assert.equal(await chains.forOperation('op-2'), placed[1]!.chain);
  await routed.append(note(3, { operationId: 'op-2' }));
  assert.equal(asked, 3, 'both operations have a record: their chains are kept, not asked for');
}

async function placementByOperation(t: Context): Promise<void> {
  const ledger = await freshLedger(t);
  const inner = new GroupCommitAppender(ledger.pool);
  const routed = new RoutedAppender(inner, new OperationChains(ledger.pool, chainRouter('hash:4', 'default')));
  const placed = await routed.append(note(1, { operationId: 'op-1' }));
  assert.equal(placed.chain, 'op-1', 'hash:4 puts op-1 on op-1 (SHA-256 vector in chain-router.test.ts)');
  // The operation's chain wins over a later setting: it was chosen when its first record was written.
  const later = new RoutedAppender(inner, new OperationChains(ledger.pool, chainRouter('hash:7', 'default')));
  assert.equal((await later.append(note(2, { operationId: 'op-1' }))).chain, 'op-1');
  assert.equal((await later.append(note(3))).chain, 'main');
  const tenant = new RoutedAppender(inner, new OperationChains(ledger.pool, chainRouter('namespace', 'acme')));
  assert.equal((await tenant.append(note(4))).chain, 'acme');
}

describe("an operation's records live on one chain, whoever inserts them", () => {
  test('the writer login cannot file a record under a running operation on a second chain: refused, nothing written', (t) =>
    squatOnSecondChain(t));

  test('two transactions racing to write an operation first on two chains: the second waits for the first, then is refused', (t) =>
    raceForFirstRecord(t));

  test('a proof of identity used on one chain is refused on any other (its use is the arbiter of replays)', (t) =>
    proofReplayAcrossChains(t));
});

describe('the appender pumps each chain on its own', () => {
  test('appends spread over four chains commit in per-chain batches: each chain gapless and intact, no batch on two chains', (t) =>
    fourChainLanes(t));

  test('appendAll of records on two chains is refused before anything is written (one transaction appends to one chain)', (t) =>
    appendAllOverTwoChains(t));

  test('a record the ledger refuses fails alone: the others that shared its batch are written', (t) =>
    refusedRecordFailsAlone(t));

  test("a record that names only its operation lands on that operation's chain; one that names none, on the home chain", (t) =>
    placementByOperation(t));

  test('once an operation has a record, its chain is known without asking the ledger again', (t) =>
    chainKeptAfterAppend(t));
});
