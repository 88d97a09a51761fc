/**
 * One search-attribute upsert per workflow activation instead of one per state change.
 *
 * A governed write moves through its states several times within one activation (planned,
 * validated, executing; later verifying, succeeded, closed). Each move upserts the state search
 * attribute so that `writ list` can filter on it, and each upsert was a command of its own: an
 * event in the history and a visibility write on the server. A one-step write made eight of them.
 * Only the values at the end of an activation can ever be seen by a list query, since the server
 * applies an activation's commands together, so they are sent as one upsert carrying every
 * attribute's last value, where the last of them stood.
 *
 * Histories recorded before this did upsert once per move; merging their commands on replay
 * would not match them. Whether a run merges is therefore decided once, with `patched()`, by the
 * interceptor that does the merging: a run recorded with the marker merges on every replay, one
 * recorded without it never does.
 */
import type { ConcludeActivationInput } from '@temporalio/workflow';
import { patched, workflowInfo } from '@temporalio/workflow';

export const ONE_UPSERT_PER_ACTIVATION_PATCH = 'writ-one-search-attribute-upsert-per-activation';

/** The workflows that move state often enough for the patch marker to pay for itself. */
const MERGING_WORKFLOW_TYPES = new Set(['governedWrite']);

type Command = ConcludeActivationInput['commands'][number];
type Upsert = NonNullable<Command['upsertWorkflowSearchAttributes']>;
type IndexedFields = NonNullable<NonNullable<Upsert['searchAttributes']>['indexedFields']>;

// Keyed by run: the worker evaluates this module once for many workflows.
const mergingRuns = new Set<string>();

/** Decides, at the start of a run and the same way on every replay, whether this run merges. */
export function decideMerging(): void {
  const { workflowType, runId } = workflowInfo();
  if (MERGING_WORKFLOW_TYPES.has(workflowType) && patched(ONE_UPSERT_PER_ACTIVATION_PATCH)) mergingRuns.add(runId);
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
