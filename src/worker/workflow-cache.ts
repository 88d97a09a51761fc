import { WritError } from '../model/errors.js';

/**
 * How many workflows a worker keeps in memory between their tasks. The SDK's own default follows
 * V8's heap limit (about 2,300 on a machine with 24 GiB), so every operation waiting days for an
 * approval stays resident with its sandbox state. A workflow evicted from the cache is replayed
 * from its history when its next task comes (a decision, a timer): CPU then instead of memory now.
 */
export const DEFAULT_MAX_CACHED_WORKFLOWS = 20;

/** WRIT_MAX_CACHED_WORKFLOWS: 0 turns the cache off (every task replays), otherwise at least 2 (the SDK's floor). */
export function maxCachedWorkflowsFromEnv(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return DEFAULT_MAX_CACHED_WORKFLOWS;
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed) || parsed === 1)
    throw new WritError(
      'CONFIG',
      `WRIT_MAX_CACHED_WORKFLOWS must be 0 (no cache) or a whole number of at least 2, not ${JSON.stringify(value)}`,
      'unset it for the default of 20',
    );
  return parsed;
}
