import type pg from 'pg';
import type { LedgerAppender } from '../ledger/appender.js';
import { canonicalText } from '../verify/canonical.js';
import { DEFAULT_CHAIN } from '../ledger/record.js';
import type { LoadedPolicy } from '../policy/load.js';
import type { LoadedDirectory } from './directory.js';
import { GovernanceType } from '../model/events.js';

/** Who writes governance records: Writ itself, on first use of a revision. */
const WRIT = { id: 'writ', kind: 'service' as const, groups: [] };

/** The idempotency keys of governance records: one per revision or version, whichever worker saw it first. */
export const policyKey = (revision: string) => `governance/policy/${revision}`;
export const directoryKey = (version: string) => `governance/directory/${version}`;

/**
 * Puts the governance in force on the record: each policy revision and each directory version,
 * in full, the first time any worker uses it, so an auditor reads what a decision was made under.
 * A key already recorded is checked, not trusted: a record under it that says something else is
 * an error, never a reason to carry on.
 */
export class GovernanceRecorder {
  private readonly recorded = new Set<string>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly appender: LedgerAppender,
  ) {}

  policy(loaded: LoadedPolicy): Promise<void> {
    return this.ensure(policyKey(loaded.revision), GovernanceType.policy, {
      revision: loaded.revision,
      policyId: loaded.policy.id,
      policy: loaded.policy as unknown as Record<string, unknown>,
    });
  }

  directory(loaded: LoadedDirectory): Promise<void> {
    return this.ensure(directoryKey(loaded.version), GovernanceType.directory, {
      version: loaded.version,
      directory: loaded.content as unknown as Record<string, unknown>,
    });
  }

  private async ensure(key: string, type: string, payload: Record<string, unknown>): Promise<void> {
    if (this.recorded.has(key)) return;
    if (!(await this.existing(key, payload))) {
      try {
        await this.appender.append({
          type,
          chain: DEFAULT_CHAIN,
          idempotencyKey: key,
          actor: WRIT,
          payload: payload as never,
        });
      } catch (error) {
        // Another worker may have recorded it in between; that record must then say the same.
        if (!(await this.existing(key, payload))) throw error;
      }
    }
    this.recorded.add(key);
  }

  private async existing(key: string, payload: Record<string, unknown>): Promise<boolean> {
    const result = await this.pool.query<{ type: string; payload: unknown }>(
      `SELECT record->>'type' AS type, record->'payload' AS payload FROM writ.records WHERE chain_id = $1 AND idempotency_key = $2`,
      [DEFAULT_CHAIN, key],
    );
    const row = result.rows[0];
    if (!row) return false;
    if (canonicalText(row.payload) !== canonicalText(payload)) {
      throw new Error(
        `the ledger holds a record under ${key} (${row.type}) that is not this governance: refusing to decide under governance that is not on the record as it is`,
      );
    }
    return true;
  }
}
