import type pg from 'pg';
import { listChains } from '../ledger/reader.js';
import type { CheckResult } from './check.js';
import { fail, ok, skip } from './check.js';

const NAME = 'checkpoint-freshness';
const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration as WRIT_CHECKPOINT_EVERY takes it (`30s`, `5m`, `1h`); undefined when it is not one. */
export function parseEvery(value: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(value.trim());
  return match ? Number(match[1]) * UNITS[match[2]!]! : undefined;
}

interface ChainFreshness {
  chain_id: string;
  signed: number;
  /** Seconds since the latest checkpoint, by the database's clock. */
  checkpoint_age: number | null;
  /** Seconds since the oldest record no checkpoint covers yet. */
  unsigned_age: number | null;
}

/**
 * No record goes unsigned for longer than twice the checkpoint interval. A quiet chain keeps an
 * old checkpoint (nothing new to sign), so the age that matters is that of the oldest record the
 * latest checkpoint does not cover. Ages come from the database's clock, not this host's.
 */
export async function checkpointFreshnessCheck(pool: pg.Pool, every: string | undefined): Promise<CheckResult> {
  if (!every) return skip(NAME, 'WRIT_CHECKPOINT_EVERY is not set');
  const interval = parseEvery(every);
  if (interval === undefined)
    return fail(
      NAME,
      `WRIT_CHECKPOINT_EVERY=${every} is not a duration`,
      'set WRIT_CHECKPOINT_EVERY to one such as 5m, 30s or 1h',
    );
  const limit = (2 * interval) / 1000;
  const chains: ChainFreshness[] = [];
  for (const chainId of await listChains(pool)) {
    const { rows } = await pool.query<ChainFreshness>(
      `SELECT $1::text AS chain_id, coalesce(cp.size, 0)::bigint AS signed,
              extract(epoch FROM now() - cp.created_at)::float8 AS checkpoint_age,
              (SELECT extract(epoch FROM now() - r.recorded_at)::float8 FROM writ.records r
                WHERE r.chain_id = $1 AND r.seq = coalesce(cp.size, 0) + 1) AS unsigned_age
         FROM (SELECT 1) one
         LEFT JOIN LATERAL (SELECT size, created_at FROM writ.checkpoints
                             WHERE chain_id = $1 ORDER BY size DESC LIMIT 1) cp ON true`,
      [chainId],
    );
    chains.push(rows[0]!);
  }
  if (!chains.length) return ok(NAME, 'the ledger is empty: nothing to sign yet');
  const late = chains.filter((chain) => chain.unsigned_age !== null && chain.unsigned_age > limit);
  if (late.length)
    return fail(
      NAME,
      late
        .map(
          (chain) =>
            `chain ${chain.chain_id}: record ${chain.signed + 1} is ${Math.round(chain.unsigned_age!)} s old and no checkpoint covers it (${chain.checkpoint_age === null ? 'none signed yet' : `latest signed ${Math.round(chain.checkpoint_age)} s ago`})`,
        )
        .join('; ') + `; checkpoints are due every ${every}`,
      'sign one now with `writ checkpoint`, and see why the writ-checkpoints schedule did not (worker logs, Temporal UI)',
    );
  const newest = Math.min(...chains.map((chain) => chain.checkpoint_age ?? Infinity));
  return ok(
    NAME,
    `no record unsigned longer than ${limit} s (2 x ${every})${Number.isFinite(newest) ? `; latest checkpoint ${Math.round(newest)} s old` : ''}`,
  );
}
