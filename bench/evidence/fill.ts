/**
 * Fills a migrated, empty ledger with `records` records the way production writes them: through
 * the group-commit appender (zod validation, RFC 8785 bytes in Node), the linking trigger (chain
 * lock, seq, hash) and the projection trigger, then the stored Merkle tree and one signed
 * checkpoint covering everything. Nothing is bulk-loaded behind the triggers' back; the only
 * liberty taken is batch size: each appendAll is one INSERT statement and one transaction of
 * BATCH records, where a live worker coalesces tens, so the fixed cost per transaction is paid
 * far less often.
 */
import { createPrivateKey } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { writeCheckpoint } from '../../src/evidence/checkpointer.js';
import { generateSigningKey } from '../../src/evidence/keys.js';
import { extendTree } from '../../src/evidence/store.js';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import { loadPersonalData, sealingAppenderOptions } from '../../src/privacy/config.js';
import type { RecordDraft } from '../../src/ledger/record.js';
import { verifyStoredChain } from '../../src/ledger/reader.js';
import { log } from '../support.js';
import type { TrafficStats } from './traffic.js';
import { traffic } from './traffic.js';
import { GOVERNANCE_RECORDS, recordGovernance } from './governance.js';

const BATCH = 4000;
/** Batches handed to the appender (prepared in Node) while an earlier one is still inside PostgreSQL. */
const IN_FLIGHT = 2;
const TREE_EVERY = 100_000;
export const CHAIN = 'main';
export const ORIGIN = 'writ-bench';
export const KEY_NAME = 'writ-bench';
/** One seed for every size: a smaller fixture is exactly the start of a larger one. */
const SEED = 5;

export interface FilledLedger {
  stats: TrafficStats;
  /** PEM of the key that signed the checkpoint; a throwaway made for this fixture. */
  privateKeyPem: string;
}

/** The accounts' names, tiers and balances as personal values of each account, for `--sealed`. */
const SEALED_ACCOUNTS = {
  targets: ['postgres', 'http', 'files'].map((connector) => ({
    connector,
    target: '*',
    fields: ['name', 'tier', 'balance'],
    subject: 'account:{target}',
  })),
};

export async function fillLedger(pool: pg.Pool, records: number, sealed = false): Promise<FilledLedger> {
  const stats: TrafficStats = { operations: 0, sharedTraces: 0, operationsInSharedTraces: 0 };
  const appender = new GroupCommitAppender(
    pool,
    // One batch inside PostgreSQL at a time: two in flight race for the chain lock, and the later
    // events of an operation could be linked before its earlier ones (a story the verifiers reject).
    // Node still prepares the next batch while one is being written.
    sealingAppenderOptions(pool, sealed ? loadPersonalData(SEALED_ACCOUNTS) : undefined, {
      maxBatch: BATCH,
      maxInFlight: 1,
    }),
  );
  const started = performance.now();
  const pending: Array<Promise<unknown>> = [];
  let batch: RecordDraft[] = [];
  let sent = 0;
  let treeAt = 0;
  let treeMs = 0;
  const progress = () => {
    const seconds = (performance.now() - started) / 1000;
    const rate = sent / seconds;
    log(
      `fixture: ${sent.toLocaleString('en')} / ${records.toLocaleString('en')} records, ${Math.round(rate)}/s, ${seconds.toFixed(0)} s so far, about ${((records - sent) / rate).toFixed(0)} s to go`,
    );
  };
  await recordGovernance(pool, appender);
  sent += GOVERNANCE_RECORDS;
  for (const draft of traffic(records - GOVERNANCE_RECORDS, SEED, stats)) {
    batch.push(draft);
    if (batch.length < BATCH) continue;
    sent += batch.length;
    pending.push(appender.appendAll(batch));
    batch = [];
    if (pending.length >= IN_FLIGHT) await pending.shift();
    if (sent - treeAt >= TREE_EVERY) {
      // Extending the tree as it grows reads back records still in cache, as the checkpointer does in production.
      await Promise.all(pending.splice(0));
      const t0 = performance.now();
      treeAt = (await extendTree(pool, CHAIN)).size;
      treeMs += performance.now() - t0;
      progress();
    }
  }
  if (batch.length) {
    sent += batch.length;
    pending.push(appender.appendAll(batch));
  }
  await Promise.all(pending);
  const appendSeconds = (performance.now() - started) / 1000;
  log(
    `fixture: ${records.toLocaleString('en')} records of ${stats.operations.toLocaleString('en')} operations appended in ${appendSeconds.toFixed(1)} s (${Math.round(records / appendSeconds)}/s, Merkle tree ${Math.round(treeMs / 1000)} s of it)`,
  );

  const key = generateSigningKey(KEY_NAME);
  const signer = { name: KEY_NAME, privateKey: createPrivateKey(key.privateKeyPem) };
  const checkpoint = await writeCheckpoint(pool, CHAIN, { signer, origin: ORIGIN, anchors: [] });
  if (checkpoint.size !== records) throw new Error(`the checkpoint covers ${checkpoint.size} records, not ${records}`);
  await checkFixture(pool, records, stats, Buffer.from(checkpoint.root, 'base64'));
  return { stats, privateKeyPem: key.privateKeyPem };
}

/**
 * The figures are only worth something if the fixture is a ledger Writ itself calls sound: the
 * chain verifies, the Merkle root recomputed from the records is the signed one, and the
 * projection has one row per operation holding every record.
 */
async function checkFixture(pool: pg.Pool, records: number, stats: TrafficStats, signedRoot: Buffer): Promise<void> {
  const t0 = performance.now();
  const verdict = await verifyStoredChain(pool, CHAIN, { rootsAt: new Set([records]) });
  if (!verdict.ok || verdict.records !== records)
    throw new Error(`the fixture's chain does not verify: ${JSON.stringify(verdict.damage)}`);
  if (!verdict.roots.get(records)?.equals(signedRoot))
    throw new Error("the Merkle root recomputed from the records is not the signed checkpoint's root");
  const projection = (
    await pool.query<{ operations: number; events: number }>(
      'SELECT count(*)::int AS operations, sum(events)::int AS events FROM writ.operations',
    )
  ).rows[0]!;
  // Governance records belong to no operation, so the projection holds every other record.
  const operationEvents = records - GOVERNANCE_RECORDS;
  if (projection.operations !== stats.operations || projection.events !== operationEvents) {
    throw new Error(
      `the projection holds ${projection.operations} operations and ${projection.events} events, not ${stats.operations} and ${operationEvents}`,
    );
  }
  log(`fixture: chain, Merkle root and projection check out (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  // Production tables have been vacuumed and analysed by autovacuum long before anyone asks.
  await pool.query('VACUUM (ANALYZE) writ.records, writ.operations, writ.merkle_nodes, writ.checkpoints');
}
