/**
 * Replays runs recorded with one search-attribute upsert per workflow activation.
 *
 * For a few days (the v4 histories), a governed write's upserts were merged at the end of each
 * activation: one upsert carrying every attribute's last value, at the place of the last of them.
 * That made the run's command sequence depend on where activations began and ended, which Temporal
 * does not promise to reproduce on replay (core's own comments name local activities resolved in
 * activations of their own on replay). Replayed with an activation split differently, a run sends
 * one upsert more than its history holds, and the next patch marker is refused as non-determinism.
 * That is the error CI met once in test/workflow/closing-race, on the replay that follows a refused
 * resolution task; it was not reproduced on demand, and the merging had bought no measurable time.
 *
 * Later runs upserted once per state move, and runs since 2026-12-05 upsert where they wait
 * (governed-write/search-attribute-updates.ts): in both the command sequence follows only the code.
 * A run recorded merging carries the `writ-one-search-attribute-upsert-per-activation` marker in
 * its first task; it must merge on every replay, so the merging stays for those runs alone.
 */
import type { ConcludeActivationInput } from '@temporalio/workflow';
import { patched, workflowInfo } from '@temporalio/workflow';

export const ONE_UPSERT_PER_ACTIVATION_PATCH = 'writ-one-search-attribute-upsert-per-activation';

/** The workflows that were recorded merging. */
const MERGING_WORKFLOW_TYPES = new Set(['governedWrite']);

type Command = ConcludeActivationInput['commands'][number];
type Upsert = NonNullable<Command['upsertWorkflowSearchAttributes']>;
type IndexedFields = NonNullable<NonNullable<Upsert['searchAttributes']>['indexedFields']>;

// Keyed by run: the worker evaluates this module once for many workflows.
const mergingRuns = new Set<string>();

/**
 * Decides, at the start of a run and the same way on every replay, whether this run merges: only
 * a run whose history holds the marker does. A new run's first task is not a replay, and nothing
 * is asked then, so no marker is written; on a replay, `patched()` answers from the history
 * without writing one. Both answers depend on the history alone, as determinism requires.
 */
export function decideMerging(): void {
  const { workflowType, runId, unsafe } = workflowInfo();
  if (!MERGING_WORKFLOW_TYPES.has(workflowType) || !unsafe.isReplaying) return;
  if (patched(ONE_UPSERT_PER_ACTIVATION_PATCH)) mergingRuns.add(runId);
}

export function forgetRun(runId: string): void {
  mergingRuns.delete(runId);
}

export function concludeWithOneUpsert(commands: Command[]): Command[] {
  return mergingRuns.has(workflowInfo().runId) ? mergeSearchAttributeUpserts(commands) : commands;
}

/**
 * The commands with their search-attribute upserts made one, at the place of the last of them,
 * holding each attribute's last value. Other commands keep their order.
 */
export function mergeSearchAttributeUpserts(commands: Command[]): Command[] {
  const upserts = commands.filter((command) => command.upsertWorkflowSearchAttributes);
  if (upserts.length < 2) return commands;
  const last = upserts[upserts.length - 1]!;
  const indexedFields = Object.assign(
    {},
    ...upserts.map((command) => command.upsertWorkflowSearchAttributes?.searchAttributes?.indexedFields ?? {}),
  ) as IndexedFields;
  return commands.flatMap((command) => {
    if (!command.upsertWorkflowSearchAttributes) return [command];
    if (command !== last) return [];
    return [
      {
        ...command,
        upsertWorkflowSearchAttributes: {
          ...command.upsertWorkflowSearchAttributes,
          searchAttributes: { indexedFields },
        },
      },
    ];
  });
}
