import type { Client } from '@temporalio/client';
import { ScheduleAlreadyRunning } from '@temporalio/client';

export const CHECKPOINT_SCHEDULE_ID = 'writ-checkpoints';

/**
 * The Temporal Schedule that checkpoints every chain even when no operation closes (manual
 * records, quiet periods), so the newest records are never long without a signed root.
 */
export function ensureCheckpointSchedule(
  client: Client,
  taskQueue: string,
  every: string,
  scheduleId = CHECKPOINT_SCHEDULE_ID,
): Promise<'created' | 'exists'> {
  return ensureSchedule(client, { scheduleId, workflowType: 'writCheckpoint', taskQueue, every });
}

export const CHECKPOINT_WATCH_SCHEDULE_ID = 'writ-checkpoint-watch';

/**
 * The Temporal Schedule that alerts when a chain's records wait longer than `maxAgeMs` for a
 * checkpoint (`writCheckpointWatch`): the checkpoint schedule itself failing, or stopped.
 */
export function ensureCheckpointWatchSchedule(
  client: Client,
  taskQueue: string,
  every: string,
  maxAgeMs: number,
  scheduleId = CHECKPOINT_WATCH_SCHEDULE_ID,
): Promise<'created' | 'exists'> {
  return ensureSchedule(client, {
    scheduleId,
    workflowType: 'writCheckpointWatch',
    taskQueue,
    every,
    args: [{ maxAgeMs }],
  });
}

export const RETENTION_SCHEDULE_ID = 'writ-retention';

/** The Temporal Schedule that applies every retention class (`writ retention apply`) on its own. */
export function ensureRetentionSchedule(
  client: Client,
  taskQueue: string,
  every: string,
  scheduleId = RETENTION_SCHEDULE_ID,
): Promise<'created' | 'exists'> {
  return ensureSchedule(client, { scheduleId, workflowType: 'writRetention', taskQueue, every });
}

async function ensureSchedule(
  client: Client,
  {
    scheduleId,
    workflowType,
    taskQueue,
    every,
    args = [],
  }: { scheduleId: string; workflowType: string; taskQueue: string; every: string; args?: unknown[] },
): Promise<'created' | 'exists'> {
  try {
    await client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: every as `${number}s` }] },
      action: { type: 'startWorkflow', workflowType, taskQueue, args },
      policies: { overlap: 'SKIP' },
    });
    return 'created';
  } catch (error) {
    if (error instanceof ScheduleAlreadyRunning) return 'exists';
    throw error;
  }
}
