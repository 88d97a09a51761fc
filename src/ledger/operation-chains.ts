import type pg from 'pg';
import type { AppendOptions, AppendResult, LedgerAppender } from './append-types.js';
import type { ChainRouter } from './chain-router.js';
import type { RecordDraft } from './record.js';

/**
 * Which chain a record goes to. An operation's records all share one chain: the one its first
 * record went to (the projection knows it, and the database refuses a record of the operation on
 * any other), or, for an operation with no record yet, the router's choice. Records tied to no
 * operation go to the router's home chain.
 */
export class OperationChains {
  /** Chains of operations already on the ledger: an operation's chain never changes once it has a record. */
  private readonly known = new Map<string, string>();

  constructor(
    private readonly pool: pg.Pool | pg.PoolClient,
    readonly router: ChainRouter,
  ) {}

  get home(): string {
    return this.router.home;
  }

  /** The chain the operation's records are on, or the one its first record will go to. */
  async forOperation(operationId: string): Promise<string> {
    return (await this.existing([operationId])).get(operationId) ?? this.router.chainFor(operationId);
  }

  /** Each draft as given when it names its chain; otherwise with its operation's chain, or home. */
  async assign(drafts: readonly RecordDraft[]): Promise<RecordDraft[]> {
    const unplaced = drafts.filter((draft) => draft?.chain === undefined);
    if (!unplaced.length) return [...drafts];
    const ids = [...new Set(unplaced.map(operationIdOf).filter((id): id is string => id !== null))];
    const known = ids.length ? await this.existing(ids) : new Map<string, string>();
    return drafts.map((draft) => {
      if (draft?.chain !== undefined) return draft;
      const id = operationIdOf(draft);
      return { ...draft, chain: id === null ? this.home : (known.get(id) ?? this.router.chainFor(id)) };
    });
  }

  /**
   * Keeps the chain of each operation a record was just written for: the ledger has it there now,
   * and refuses the operation's records on any other. A duplicate's earlier record is not taken
   * as the operation's: its key could have been taken by a record of another operation.
   */
  remember(drafts: readonly RecordDraft[], results: readonly AppendResult[]): void {
    if (results.length !== drafts.length) return;
    results.forEach((result, index) => {
      const id = operationIdOf(drafts[index]);
      if (id !== null && !result.duplicate) this.keep(id, result.chain);
    });
  }

  private keep(operationId: string, chain: string): void {
    // Bounded: a long-running worker forgets and asks again rather than growing without end.
    if (this.known.size > 10_000) this.known.clear();
    this.known.set(operationId, chain);
  }

  private async existing(operationIds: string[]): Promise<Map<string, string>> {
    const result = new Map<string, string>();
    const unknown = operationIds.filter((id) => {
      const chain = this.known.get(id);
      if (chain !== undefined) result.set(id, chain);
      return chain === undefined;
    });
    if (!unknown.length) return result;
    const found = await this.pool.query<{ operation_id: string; chain_id: string }>(
      'SELECT operation_id, chain_id FROM writ.operations WHERE operation_id = ANY($1::text[])',
      [unknown],
    );
    for (const row of found.rows) {
      this.keep(row.operation_id, row.chain_id);
      result.set(row.operation_id, row.chain_id);
    }
    return result;
  }
}

/** A draft's operation id when it is one the ledger could accept; validation names anything else. */
function operationIdOf(draft: RecordDraft | undefined): string | null {
  const id: unknown = draft?.operationId;
  return typeof id === 'string' && id.length > 0 ? id : null;
}

/**
 * An appender that places drafts on their chains first (OperationChains.assign), so callers that
 * know only an operation id (a hand-written note, a workflow started before chains were carried)
 * still land on the operation's chain.
 */
export class RoutedAppender implements LedgerAppender {
  constructor(
    private readonly inner: LedgerAppender,
    readonly chains: OperationChains,
  ) {}

  async append(draft: RecordDraft, options?: AppendOptions): Promise<AppendResult> {
    const [placed] = await this.chains.assign([draft]);
    const result = await this.inner.append(placed!, options);
    this.chains.remember([placed!], [result]);
    return result;
  }

  async appendAll(drafts: readonly RecordDraft[], options?: AppendOptions): Promise<AppendResult[]> {
    const placed = await this.chains.assign(drafts);
    const results = await this.inner.appendAll(placed, options);
    this.chains.remember(placed, results);
    return results;
  }
}
