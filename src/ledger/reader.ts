import type pg from 'pg';
import type { ChainVerdict, LedgerRow } from './verify.js';
import { ChainVerifier } from './verify.js';

interface RawRow {
  chain_id: string;
  seq: number;
  canonical: Buffer;
  record: unknown;
  prev_hash: Buffer;
  hash: Buffer;
}

const PAGE = `
  SELECT chain_id, seq, canonical, record, prev_hash, hash
    FROM writ.records
   WHERE chain_id = $1 AND seq > $2
   ORDER BY seq
   LIMIT $3`;

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

/**
 * Streams a chain in sequence order, one page ahead, so reading the next page overlaps with
 * verifying this one. Memory stays at two pages whatever the ledger's size.
 */
export async function* readChain(pool: pg.Pool, chainId: string, afterSeq = 0, pageSize = 5000): AsyncGenerator<LedgerRow[]> {
  const fetchPage = (after: number) => pool.query<RawRow>(PAGE, [chainId, after, pageSize]).then((result) => result.rows);
  let pending = fetchPage(afterSeq);
  for (;;) {
    const rows = await pending;
    if (!rows.length) return;
    const last = rows[rows.length - 1]!;
    pending = rows.length === pageSize ? fetchPage(last.seq) : Promise.resolve([]);
    yield rows.map(toLedgerRow);
  }
}

function toLedgerRow(row: RawRow): LedgerRow {
  return { chainId: row.chain_id, seq: row.seq, canonical: row.canonical, record: row.record, prevHash: row.prev_hash, hash: row.hash };
}

export async function verifyStoredChain(pool: pg.Pool, chainId: string): Promise<ChainVerdict> {
  const verifier = new ChainVerifier(chainId);
  const pages = readChain(pool, chainId);
  for await (const page of pages) {
    for (const row of page) {
      if (verifier.push(row)) {
        await pages.return(undefined);
        return verifier.verdict();
      }
    }
  }
  return verifier.verdict();
}

export async function verifyStoredLedger(pool: pg.Pool): Promise<ChainVerdict[]> {
  const verdicts: ChainVerdict[] = [];
  for (const chainId of await listChains(pool)) verdicts.push(await verifyStoredChain(pool, chainId));
  return verdicts;
}
