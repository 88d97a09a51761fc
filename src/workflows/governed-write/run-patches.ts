/**
 * Every behaviour change of the governed write is taken or not once, in the run's first workflow
 * task, by one marker. `patched()` asked later is decided from whether the worker has seen the
 * marker yet: on replay it answers false until the workflow task that holds the marker is applied.
 * When a local activity's result reaches the workflow in an earlier task on replay than it did live
 * (core pre-resolves local activities from the markers it looks ahead to), the code after it asks
 * `patched()` too early, gets false, records no marker, and the run fails with non-determinism for
 * good ("Non-deprecated patch marker encountered for change writ-alert-needs-intervention, but
 * there is no corresponding change command!", met in CI and on this machine under load after a
 * refused resolution task). A marker in the first task is always seen before any code runs.
 *
 * Runs recorded before this marker asked each patch where its change begins, and replaying them
 * must again: for them `has` asks `patched()` there, as before. A change made from now on needs no
 * patch of its own as long as it ships with a first-task marker of its own in the same way.
 */
import { patched } from '@temporalio/workflow';

export const PATCHES_DECIDED_IN_FIRST_TASK = 'writ-patches-decided-in-first-task';

/**
 * The second first-task marker: the run also upserts its search attributes only where it waits
 * (search-attribute-updates.ts). A new run records this marker alone; it implies the first.
 */
export const SEARCH_ATTRIBUTES_AT_WAITS = 'writ-search-attributes-upserted-at-waits';

export class RunPatches {
  private constructor(
    private readonly decidedInFirstTask: boolean,
    /** Whether the run upserts its search attributes only before it waits. */
    readonly searchAttributesAtWaits: boolean,
  ) {}

  /**
   * Asked in the run's first workflow task, before any await. The newest marker is asked first: a
   * new run records it and no other; a run recorded before it replays with `patched()` answering
   * no for it, without a command, and then finds the marker it did record.
   */
  static forThisRun(): RunPatches {
    if (patched(SEARCH_ATTRIBUTES_AT_WAITS)) return new RunPatches(true, true);
    return new RunPatches(patched(PATCHES_DECIDED_IN_FIRST_TASK), false);
  }

  /** Whether this run takes the change `patch` names. */
  has(patch: string): boolean {
    return this.decidedInFirstTask || patched(patch);
  }
}
