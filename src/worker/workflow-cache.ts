import { WritError } from '../model/errors.js';

/**
 * How many workflows a worker keeps in memory between their tasks. The SDK's own default follows
 * V8's heap limit (about 2,300 on a machine with 24 GiB), so every operation waiting days for an
 * approval would stay resident with its sandbox state; a bound keeps them out, and an evicted
 * workflow is replayed from its history when its next task comes (CPU then instead of memory now).
 * The bound must exceed the operations a worker executes at once: the SDK's core can evict a
 * workflow while a task with local activities (Writ's appends) is under way and lose that task's
 * answer, which the server re-dispatches only after its 10 s timeout (BENCHMARKS.md, 2026-12-05:
 * 13 of 320 writes at 32 in flight with 20 cached, none with 64). 200 cached cost about 40 MB more
 * than 20 in P6 (262-264 MB against 223, goal 300).
 */
export const DEFAULT_MAX_CACHED_WORKFLOWS = 200;

/** WRIT_MAX_CACHED_WORKFLOWS: 0 turns the cache off (every task replays), otherwise at least 2 (the SDK's floor). */
export function maxCachedWorkflowsFromEnv(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return DEFAULT_MAX_CACHED_WORKFLOWS;
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed) || parsed === 1)
    throw new WritError(
      'CONFIG',
      `WRIT_MAX_CACHED_WORKFLOWS must be 0 (no cache) or a whole number of at least 2, not ${JSON.stringify(value)}`,
      `unset it for the default of ${DEFAULT_MAX_CACHED_WORKFLOWS}`,
    );
  return parsed;
}
