/**
 * What Temporal's visibility shows of an operation (its state, actor and risk) is upserted where
 * the run waits, not at every move. Visibility reads a run as it stands after a workflow task, so
 * the moves a task makes between two waits were never listed anyway: a one-step write upserted
 * eight times (six moves, its risk, its outcome), and each upsert cost the server a history event
 * and a visibility write. Now it upserts twice: before the write to the target, and as it closes.
 *
 * The places are in the code, not in how activations fall (the merging of 2026-12-03 depended on
 * those, which a replay need not reproduce): before every regular activity and every wait for a
 * message or a deadline; closing is such a wait (for the run's handlers to finish). A run that
 * fails with an exception is listed as at its last wait. A local activity is not such a place:
 * while one is retried for longer than a workflow task, the list shows the state of the last wait
 * before it, and the state query the live one.
 *
 * Runs recorded before `SEARCH_ATTRIBUTES_AT_WAITS` upserted at every move and replay so.
 */
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { upsertSearchAttributes } from '@temporalio/workflow';

export class SearchAttributeUpdates {
  /** By attribute name, in the order first set since the last upsert: each with its last value. */
  private readonly pending = new Map<string, SearchAttributeUpdatePair>();

  constructor(private readonly atWaits: boolean) {}

  set(pairs: SearchAttributeUpdatePair[]): void {
    if (!this.atWaits) {
      upsertSearchAttributes(pairs);
      return;
    }
    for (const pair of pairs) this.pending.set(pair.key.name, pair);
  }

  /** Called before the run waits on anything outside its worker, and when it ends. */
  upsertPending(): void {
    if (!this.pending.size) return;
    upsertSearchAttributes([...this.pending.values()]);
    this.pending.clear();
  }
}
