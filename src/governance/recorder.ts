import type pg from 'pg';
import type { LedgerAppender } from '../ledger/appender.js';
import { canonicalText } from '../verify/canonical.js';
import { DEFAULT_CHAIN } from '../ledger/record.js';
import type { LoadedPolicy } from '../policy/load.js';
import type { LoadedDirectory } from './directory.js';
import { GovernanceType, PROOF_USED_TYPE } from '../model/events.js';
import type { ProofUse } from '../identity/service.js';
import { sha256Hex } from '../verify/hash.js';

/** Who writes governance records: Writ itself, on first use of a revision. */
const WRIT = { id: 'writ', kind: 'service' as const, groups: [] };

/** The idempotency keys of governance records: one per revision or version, whichever worker saw it first. */
export const policyKey = (revision: string) => `governance/policy/${revision}`;
export const directoryKey = (version: string) => `governance/directory/${version}`;
export const identityKeyKey = (issuer: string, thumbprint: string) =>
  `governance/identity-key/${sha256Hex(issuer)}/${thumbprint}`;
export const proofUseKey = (proofSha256: string) => `identity/proof/${proofSha256}`;

/** Which chain the governance being used now belongs on: the chain of the operation it is used for. */
export type ChainInUse = () => Promise<string>;

/** Where the operation a proof is used for keeps its records. */
export type OperationChain = (operationId: string) => Promise<string>;

/**
 * Puts the governance in force on the record: each policy revision and each directory version,
 * in full, the first time any worker uses it on a chain, so an auditor reads what a decision was
 * made under beside the decision (a bundle holds one chain, and carries the governance its
 * decisions name with proofs in that chain's tree). A key already recorded is checked, not
 * trusted: a record under it that says something else is an error, never a reason to carry on.
 */
export class GovernanceRecorder {
  private readonly recorded = new Set<string>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly appender: LedgerAppender,
    private readonly chainInUse: ChainInUse = async () => DEFAULT_CHAIN,
    private readonly operationChain: OperationChain = async () => DEFAULT_CHAIN,
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

  /** An identity provider's key, in full (public members only), the first time it verifies a token. */
  identityKey(issuer: string, jwk: Record<string, unknown>, thumbprint: string): Promise<void> {
    return this.ensure(identityKeyKey(issuer, thumbprint), GovernanceType.identityKey, { issuer, thumbprint, jwk });
  }

  /**
   * Puts a proof's use on the record, on the chain of the operation it is used for; null when it
   * is its first use or a retry of this same use, otherwise the use it was put to before (a
   * replay). The ledger is the arbiter: its unique key on one chain, and a trigger across chains
   * (a proof used on one chain is refused on any other), so two workers racing with one proof
   * cannot both win.
   */
  async proofUse(proofSha256: string, use: ProofUse): Promise<ProofUse | null> {
    const key = proofUseKey(proofSha256);
    const payload = { proofSha256, use: use.use, operationId: use.operationId };
    const chain = await this.operationChain(use.operationId);
    const earlier = async () => {
      const held = await this.payloadUnder(null, key);
      if (!held) return undefined;
      const same = canonicalText(held.payload) === canonicalText(payload);
      return same
        ? null
        : { use: String(held.payload.use) as ProofUse['use'], operationId: String(held.payload.operationId) };
    };
    const before = await earlier();
    if (before !== undefined) return before;
    try {
      await this.appender.append({
        type: PROOF_USED_TYPE,
        chain,
        idempotencyKey: key,
        actor: WRIT,
        payload,
      });
      return null;
    } catch (error) {
      const after = await earlier();
      if (after === undefined) throw error;
      return after;
    }
  }

  /** The record under `key` on `chain`, or (chain null: proof uses only) on any chain. */
  private async payloadUnder(
    chain: string | null,
    key: string,
  ): Promise<{ type: string; payload: Record<string, unknown> } | null> {
    const columns = `record->>'type' AS type, record->'payload' AS payload`;
    // The LIKE is the partial index's own predicate (migration 0010), which lets the planner use it.
    const result = await this.pool.query<{ type: string; payload: Record<string, unknown> }>(
      chain === null
        ? `SELECT ${columns} FROM writ.records WHERE idempotency_key = $1 AND idempotency_key LIKE 'identity/proof/%' LIMIT 1`
        : `SELECT ${columns} FROM writ.records WHERE chain_id = $2 AND idempotency_key = $1`,
      chain === null ? [key] : [key, chain],
    );
    return result.rows[0] ?? null;
  }

  private async ensure(key: string, type: string, payload: Record<string, unknown>): Promise<void> {
    const chain = await this.chainInUse();
    const onChain = `${chain}\u0000${key}`;
    if (this.recorded.has(onChain)) return;
    if (!(await this.existing(chain, key, payload))) {
      try {
        await this.appender.append({ type, chain, idempotencyKey: key, actor: WRIT, payload: payload as never });
      } catch (error) {
        // Another worker may have recorded it in between; that record must then say the same.
        if (!(await this.existing(chain, key, payload))) throw error;
      }
    }
    this.recorded.add(onChain);
  }

  private async existing(chain: string, key: string, payload: Record<string, unknown>): Promise<boolean> {
    const row = await this.payloadUnder(chain, key);
    if (!row) return false;
    if (canonicalText(row.payload) !== canonicalText(payload)) {
      throw new Error(
        `the ledger holds a record under ${key} (${row.type}) that is not this governance: refusing to decide under governance that is not on the record as it is`,
      );
    }
    return true;
  }
}
