import type pg from 'pg';
import { PrivacyType } from '../model/events.js';
import { DEFAULT_CHAIN } from '../ledger/record.js';
import type { RecordDraft } from '../ledger/record.js';
import type { RetentionClass } from './personal-rules.js';
import type { HeldValue } from './erase-under-record.js';
import { inTransaction } from '../db/transaction.js';
import { deleteUnderRecord, selectValues, valueRefs } from './erase-under-record.js';

export const RETENTION_ACTOR = { id: 'writ-retention', kind: 'service' as const, groups: [] };

export interface RetentionRun {
  class: string;
  cutoff: string;
  pruned: number;
  heldBack: number;
  records: string[];
}

/** The instant before which a class's values have expired: `keep` back from `now`, by the calendar. */
export function retentionCutoff(keep: string, now: Date): Date {
  const amount = Number(keep.slice(0, -1));
  const cutoff = new Date(now.getTime());
  switch (keep.at(-1)) {
    case 'd':
      cutoff.setUTCDate(cutoff.getUTCDate() - amount);
      break;
    case 'w':
      cutoff.setUTCDate(cutoff.getUTCDate() - 7 * amount);
      break;
    case 'm':
      return monthsBack(now, amount);
    default:
      return monthsBack(now, 12 * amount);
  }
  return cutoff;
}

/** The same day of an earlier month, or that month's last day when it is shorter (31 March - 1m = 28 February). */
function monthsBack(now: Date, months: number): Date {
  const month = now.getUTCFullYear() * 12 + now.getUTCMonth() - months;
  const year = Math.floor(month / 12);
  const inYear = month - year * 12;
  const lastDay = new Date(Date.UTC(year, inYear + 1, 0)).getUTCDate();
  const cutoff = new Date(now.getTime());
  cutoff.setUTCFullYear(year, inYear, Math.min(now.getUTCDate(), lastDay));
  return cutoff;
}

/** Writ's glob as a LIKE pattern: `*` is any run of characters, everything else itself. */
function likePattern(glob: string): string {
  return glob.replace(/[\\%_]/g, '\\$&').replace(/\*/g, '%');
}

/**
 * Deletes the values of each class older than its retention, except those under a legal hold,
 * and appends one `retention.applied` record per chain and class saying what was pruned and what
 * was held back (a class with nothing to prune still records that the run happened). Hashes,
 * records and proofs are never touched: only the values kept beside them.
 */
export async function applyRetention(
  pool: pg.Pool,
  classes: readonly RetentionClass[],
  now: Date = new Date(),
  /** Where a run that found nothing to prune is recorded: the deployment's home chain (WRIT_CHAINS). */
  home: string = DEFAULT_CHAIN,
): Promise<RetentionRun[]> {
  const runs: RetentionRun[] = [];
  for (const retention of classes) {
    const cutoff = retentionCutoff(retention.keep, now);
    runs.push(
      await inTransaction(pool, async (client) => {
        const values = await selectValues(client, `WHERE v.occurred_at < $1 AND v.record_type LIKE ANY($2::text[])`, [
          cutoff,
          retention.types.map(likePattern),
        ]);
        const chains = new Set([...values.map((value) => value.chain)]);
        if (!chains.size) chains.add(home);
        const records: string[] = [];
        for (const chain of chains) {
          const ofChain = values.filter((value) => value.chain === chain);
          const pruned = ofChain.filter((value) => value.hold === null);
          const draft = retentionDraft(
            retention,
            cutoff,
            chain,
            pruned,
            ofChain.filter((v) => v.hold !== null),
          );
          records.push((await deleteUnderRecord(client, draft, pruned)).eventId);
        }
        const heldBack = values.filter((value) => value.hold !== null).length;
        return {
          class: retention.class,
          cutoff: cutoff.toISOString(),
          pruned: values.length - heldBack,
          heldBack,
          records,
        };
      }),
    );
  }
  return runs;
}

function retentionDraft(
  retention: RetentionClass,
  cutoff: Date,
  chain: string,
  pruned: readonly HeldValue[],
  held: readonly HeldValue[],
): RecordDraft {
  return {
    type: PrivacyType.retentionApplied,
    chain,
    actor: RETENTION_ACTOR,
    payload: {
      class: retention.class,
      types: retention.types,
      keep: retention.keep,
      cutoff: cutoff.toISOString(),
      pruned: valueRefs(pruned),
      heldBack: held.map((value) => ({ ...valueRefs([value])[0]!, hold: value.hold })),
    },
  };
}
