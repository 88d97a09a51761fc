import type pg from 'pg';
import type { ChainVerdict, LedgerRow } from '../verify/chain.js';
import { ChainVerifier } from '../verify/chain.js';
import { CompactRange } from '../verify/compact-range.js';
import { leafHash } from '../verify/merkle.js';
import { verifyChainParallel, verifyThreadsFrom, verifyWorkerFile } from './parallel-verify.js';

interface RawRow {
  chain_id: string;
  seq: number;
  canonical: Buffer;
  prev_hash: Buffer;
  hash: Buffer;
  copy_matches: boolean;
  /** Only sent when the copy differs (or in deep mode), so the verifier can say where. */
  record: unknown;
}

// The format fields and lifecycle facts are read from the hashed bytes, in the pass that proves
// them canonical, so nothing but the comparison is read from the copy. PostgreSQL compares the
// jsonb copy with the hashed bytes itself (jsonb equality; OFFSET 0 keeps the planner from
// inlining, and so computing, the comparison twice), so the copy crosses the wire only when it
// differs; `deep` ships every copy for Node to canonicalise.
const pageQuery = (deep: boolean) => `
  SELECT r.chain_id, r.seq, r.canonical, r.prev_hash, r.hash, c.matches AS copy_matches,
         ${deep ? 'r.record' : 'CASE WHEN c.matches THEN NULL ELSE r.record END AS record'}
    FROM writ.records r
   CROSS JOIN LATERAL (SELECT r.record = convert_from(r.canonical, 'UTF8')::jsonb AS matches OFFSET 0) c
   WHERE r.chain_id = $1 AND r.seq >= $2 AND r.seq < $3
   ORDER BY r.seq`;

const HEAD = 'SELECT max(seq) AS head FROM writ.records WHERE chain_id = $1';

// A loose index scan: one index probe per chain instead of reading every record to find them.
const CHAINS = `
  WITH RECURSIVE chains AS (
    (SELECT chain_id FROM writ.records ORDER BY chain_id LIMIT 1)
    UNION ALL
    SELECT (SELECT r.chain_id FROM writ.records r WHERE r.chain_id > c.chain_id ORDER BY r.chain_id LIMIT 1)
      FROM chains c WHERE c.chain_id IS NOT NULL
  )
  SELECT chain_id FROM chains WHERE chain_id IS NOT NULL`;

export async function listChains(pool: pg.Pool): Promise<string[]> {
  const result = await pool.query<{ chain_id: string }>(CHAINS);
  return result.rows.map((row) => row.chain_id);
}

export interface ReadOptions {
  afterSeq?: number;
  pageSize?: number;
  /** The head to read up to (default: the chain's head when reading starts). */
  head?: number;
  /** Ship every stored jsonb copy to Node and prove the hashed bytes are canonical there. */
  deep?: boolean;
}

/**
 * Streams a chain in sequence order by ranges of seq up to the head seen at the start, one page
 * ahead, so reading the next page overlaps with verifying this one. Ranges rather than LIMIT
 * keep the plan an index range scan however stale the statistics, and a range emptied by
 * deletion still reaches the verifier as a gap.
 */
export async function* readChain(
  pool: pg.Pool,
  chainId: string,
  options: ReadOptions = {},
): AsyncGenerator<LedgerRow[]> {
  const pageSize = options.pageSize ?? 10_000;
  const sql = pageQuery(options.deep ?? false);
  const head = options.head ?? (await pool.query<{ head: number | null }>(HEAD, [chainId])).rows[0]?.head ?? 0;
  const fetchPage = (from: number) =>
    pool.query<RawRow>(sql, [chainId, from, from + pageSize]).then((result) => result.rows);
  for (let from = (options.afterSeq ?? 0) + 1, pending = fetchPage(from); from <= head;) {
    const rows = await pending;
    from += pageSize;
    if (from <= head) pending = fetchPage(from);
    yield rows.map(toLedgerRow);
  }
}

function toLedgerRow(row: RawRow): LedgerRow {
  return {
    chainId: row.chain_id,
    seq: row.seq,
    canonical: row.canonical,
    prevHash: row.prev_hash,
    hash: row.hash,
    ...(row.record !== null && row.record !== undefined ? { record: row.record } : {}),
    copy: { matches: row.copy_matches },
  };
}

export interface StoredChainOptions {
  deep?: boolean;
  /** Tree sizes whose Merkle root to compute while reading (the sizes checkpoints claim). */
  rootsAt?: ReadonlySet<number>;
  /** Worker threads (default WRIT_VERIFY_THREADS, else the number of cores up to four). */
  threads?: number;
  /** Chains of at least this many records are verified over worker threads (default 20,000). */
  parallelFrom?: number;
  /** Records per worker task (default: about four tasks per thread, within 2,000..50,000). */
  rangeSize?: number;
  /** Told the number of records verified so far, and the head being verified up to. */
  onProgress?: (records: number, head: number) => void;
}

const PARALLEL_FROM = 20_000;

/**
 * Verifies a chain from genesis up to the head seen at the start: over worker threads that each
 * read a seq range in binary when the chain is long (and the compiled worker exists), else on
 * this thread. Both give the same verdict; the threads only change how fast.
 */
export async function verifyStoredChain(
  pool: pg.Pool,
  chainId: string,
  options: StoredChainOptions = {},
): Promise<ChainVerdict & { roots: Map<number, Buffer> }> {
  const head = (await pool.query<{ head: number | null }>(HEAD, [chainId])).rows[0]?.head ?? 0;
  const threads = options.threads ?? verifyThreadsFrom(process.env);
  const workerFile = verifyWorkerFile();
  if (workerFile && head >= (options.parallelFrom ?? PARALLEL_FROM)) {
    const rangeSize = options.rangeSize ?? Math.min(50_000, Math.max(2_000, Math.ceil(head / (threads * 4))));
    const onProgress = options.onProgress;
    return verifyChainParallel(pool, chainId, head, {
      threads,
      rangeSize,
      deep: options.deep ?? false,
      rootsAt: options.rootsAt ?? new Set(),
      workerFile,
      ...(onProgress ? { onProgress: (records: number) => onProgress(records, head) } : {}),
    });
  }
  return verifySequentially(pool, chainId, head, options);
}

async function verifySequentially(
  pool: pg.Pool,
  chainId: string,
  head: number,
  options: StoredChainOptions,
): Promise<ChainVerdict & { roots: Map<number, Buffer> }> {
  const verifier = new ChainVerifier(chainId);
  const roots = new Map<number, Buffer>();
  // The tree is rebuilt from the records themselves, never from stored nodes: that is what makes
  // a checkpoint catch a chain rewritten with recomputed hashes.
  const tree = options.rootsAt?.size ? new CompactRange() : null;
  if (tree && options.rootsAt!.has(0)) roots.set(0, tree.root());
  const pages = readChain(pool, chainId, { ...options, head });
  for await (const page of pages) {
    for (const row of page) {
      if (verifier.push(row)) {
        await pages.return(undefined);
        return { ...verifier.verdict(), roots };
      }
      if (tree) {
        tree.append(leafHash(row.canonical));
        if (options.rootsAt!.has(tree.size)) roots.set(tree.size, tree.root());
      }
    }
    options.onProgress?.(verifier.verdict().records, head);
  }
  return { ...verifier.verdict(), roots };
}

export async function verifyStoredLedger(pool: pg.Pool, options: { deep?: boolean } = {}): Promise<ChainVerdict[]> {
  const verdicts: ChainVerdict[] = [];
  for (const chainId of await listChains(pool)) verdicts.push(await verifyStoredChain(pool, chainId, options));
  return verdicts;
}
