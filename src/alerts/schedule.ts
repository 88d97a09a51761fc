import type { Client } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time.js';
import { ensureCheckpointWatchSchedule } from '../evidence/schedule.js';
import { WritError } from '../model/errors.js';

/**
 * The watch runs as often as checkpoints are made, and calls a chain stale when its records have
 * waited two intervals: one missed checkpoint is a hiccup, two in a row is an episode.
 */
export function ensureCheckpointWatch(client: Client, taskQueue: string, every: string): Promise<'created' | 'exists'> {
  let intervalMs: number;
  try {
    intervalMs = msToNumber(every as Duration);
  } catch {
    throw new WritError('USAGE', `WRIT_CHECKPOINT_EVERY must be a duration such as 5m or 30s, not "${every}"`);
  }
  return ensureCheckpointWatchSchedule(client, taskQueue, every, 2 * intervalMs);
}
