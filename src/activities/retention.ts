import type pg from 'pg';
import type { RetentionClass } from '../privacy/personal-rules.js';
import type { RetentionRun } from '../privacy/retention.js';
import { applyRetention } from '../privacy/retention.js';
import { toActivityFailure } from './failures.js';

/**
 * The retention schedule's one activity. It runs on the custodian's login (the only role that
 * deletes values), which the worker holds only when a deployment turns scheduled retention on.
 */
export function createRetentionActivities(pool: pg.Pool, classes: readonly RetentionClass[], home?: string) {
  return {
    async applyRetentionNow(): Promise<RetentionRun[]> {
      try {
        return await applyRetention(pool, classes, new Date(), home);
      } catch (error) {
        throw toActivityFailure(error, { keepCause: true });
      }
    },
  };
}

export type RetentionActivities = ReturnType<typeof createRetentionActivities>;
