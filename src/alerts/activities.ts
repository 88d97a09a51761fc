import { Context, log } from '@temporalio/activity';
import type pg from 'pg';
import type { AlertConfig } from './config.js';
import type { Destination } from './deliver.js';
import { deliverAlert } from './deliver.js';
import type { Alert } from './message.js';
import { alertId } from './message.js';

export interface StaleChain {
  chainId: string;
  /** How many of the chain's records the newest checkpoint covers (0: none yet). */
  checkpointedSize: number;
  /** When the oldest record no checkpoint covers was recorded. */
  uncoveredSince: string;
}

// The first record past the newest checkpoint, per chain, when it is older than allowed.
const STALE_CHAINS = `
  WITH covered AS (SELECT chain_id, max(size) AS size FROM writ.checkpoints GROUP BY chain_id),
       heads AS (SELECT chain_id, max(seq) AS head FROM writ.records GROUP BY chain_id)
  SELECT h.chain_id, coalesce(c.size, 0) AS size, r.recorded_at
    FROM heads h
    LEFT JOIN covered c USING (chain_id)
    JOIN writ.records r ON r.chain_id = h.chain_id AND r.seq = coalesce(c.size, 0) + 1
   WHERE r.recorded_at < clock_timestamp() - make_interval(secs => $1::double precision / 1000)
   ORDER BY h.chain_id`;

/** Alerts as activities: the workflows decide when, these do the I/O. */
export function createAlertActivities(pool: pg.Pool, config: AlertConfig | undefined) {
  return {
    /**
     * Sends an alert to every configured destination (none configured: nothing to do). Which
     * destinations it reached is kept in the heartbeat, so a retry resends only to the others.
     */
    async sendAlert(alert: Alert): Promise<{ delivered: Destination[] }> {
      if (!config) return { delivered: [] };
      const context = Context.current();
      const done = [...((context.info.heartbeatDetails as Destination[] | undefined) ?? [])];
      try {
        await deliverAlert(alert, config, done, (destination) => {
          done.push(destination);
          context.heartbeat(done);
        });
      } catch (error) {
        log.warn('alert not delivered (will retry a bounded number of times)', {
          alert: alertId(alert),
          attempt: context.info.attempt,
          error: (error as Error).message,
        });
        throw error;
      }
      return { delivered: done };
    },

    /** Chains whose records have waited longer than `maxAgeMs` for a signed checkpoint. */
    async findStaleCheckpoints({ maxAgeMs }: { maxAgeMs: number }): Promise<StaleChain[]> {
      const result = await pool.query<{ chain_id: string; size: string; recorded_at: Date }>(STALE_CHAINS, [maxAgeMs]);
      return result.rows.map((row) => ({
        chainId: row.chain_id,
        checkpointedSize: Number(row.size),
        uncoveredSince: row.recorded_at.toISOString(),
      }));
    },
  };
}

export type AlertActivities = ReturnType<typeof createAlertActivities>;
