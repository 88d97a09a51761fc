import type pg from 'pg';
import type { LedgerRow } from '../verify/chain.js';
import { decode } from './copy-binary.js';
import type { CopyField } from './copy-binary.js';
import { copyOutBinary } from './copy-out.js';

/**
 * The page query of reader.ts as one binary COPY of a seq range: the bytes travel raw instead of as
 * hex text, and PostgreSQL still compares each jsonb copy with its hashed bytes (the copy crosses
 * the wire only when it differs, or in deep mode). Nothing else is read from the copy: the verifier
 * reads a record's format and lifecycle facts from its bytes, in the pass that proves them
 * canonical. COPY takes no parameters, so the chain id is a quoted literal and the bounds are
 * checked integers. The jsonb copy is sent as text and parsed here.
 */
function rangeQuery(client: pg.ClientBase, chainId: string, from: number, to: number, deep: boolean): string {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to)) throw new RangeError(`bad seq range ${from}..${to}`);
  return `SELECT r.seq, r.canonical, r.prev_hash, r.hash, c.matches,
           ${deep ? 'r.record::text' : 'CASE WHEN c.matches THEN NULL ELSE r.record::text END'}
      FROM writ.records r
     CROSS JOIN LATERAL (SELECT r.record = convert_from(r.canonical, 'UTF8')::jsonb AS matches OFFSET 0) c
     WHERE r.chain_id = ${client.escapeLiteral(chainId)} AND r.seq >= ${from} AND r.seq < ${to}
     ORDER BY r.seq`;
}

function toLedgerRow(chainId: string, f: CopyField[]): LedgerRow {
  const record = f[5] === null ? undefined : decode.json(f[5]!);
  return {
    chainId,
    seq: decode.int8(f[0]!)!,
    canonical: f[1]!,
    prevHash: f[2]!,
    hash: f[3]!,
    ...(record !== undefined ? { record } : {}),
    copy: { matches: decode.bool(f[4]!)! },
  };
}

/** The rows of [from, to) of a chain in seq order, a chunk's worth at a time. */
export async function* readRangeBinary(
  client: pg.ClientBase,
  chainId: string,
  range: { from: number; to: number; deep?: boolean },
): AsyncGenerator<LedgerRow[]> {
  const query = rangeQuery(client, chainId, range.from, range.to, range.deep ?? false);
  for await (const tuples of copyOutBinary(client, query)) yield tuples.map((fields) => toLedgerRow(chainId, fields));
}
