import type pg from 'pg';
import { listChains } from '../ledger/reader.js';
import type { CheckpointOptions, WrittenCheckpoint } from './checkpointer.js';
import { writeCheckpoint } from './checkpointer.js';

/**
 * Checkpoints when operations close, batched: closes within `delayMs` of each other share one
 * signature, so a busy worker signs a few times a second at most, not once per operation.
 */
export class BatchedCheckpointer {
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: CheckpointOptions,
    private readonly delayMs = 1000,
    private readonly onError: (error: Error) => void = (error) =>
      process.emitWarning(`checkpoint failed: ${error.message}`),
  ) {}

  /** Asks for a checkpoint of this chain soon; never blocks the caller. */
  request(chainId: string): void {
    this.pending.add(chainId);
    this.timer ??= setTimeout(() => {
      this.timer = null;
      this.running = this.running.then(() => this.flushPending());
    }, this.delayMs);
  }

  /** Checkpoints every chain now (the scheduled run), after any batch already under way. */
  async now(): Promise<WrittenCheckpoint[]> {
    const done = this.running.then(async () => {
      const written: WrittenCheckpoint[] = [];
      for (const chainId of await listChains(this.pool))
        written.push(await writeCheckpoint(this.pool, chainId, this.options));
      return written;
    });
    this.running = done.then(
      () => undefined,
      () => undefined,
    );
    return done;
  }

  async close(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
      this.running = this.running.then(() => this.flushPending());
    }
    await this.running;
  }

  private async flushPending(): Promise<void> {
    const chains = [...this.pending];
    this.pending.clear();
    for (const chainId of chains) {
      try {
        await writeCheckpoint(this.pool, chainId, this.options);
      } catch (error) {
        this.onError(error as Error);
      }
    }
  }
}
