import type pg from 'pg';
import type { CheckResult } from './check.js';
import { fail, ok } from './check.js';

/**
 * This host's clock against the database's. Records are stamped by the database and approvals,
 * links and tokens by the services: clocks that disagree make expiries and timelines wrong.
 * The round trip bounds how well the two can be compared, so it widens the tolerance.
 */
export async function clockCheck(pool: pg.Pool, now: () => number, toleranceMs: number): Promise<CheckResult> {
  const before = now();
  const { rows } = await pool.query<{ ms: number }>(
    'SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS ms',
  );
  const after = now();
  const skew = (before + after) / 2 - rows[0]!.ms;
  const slack = toleranceMs + Math.abs(after - before) / 2;
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  if (Math.abs(skew) > slack)
    return fail(
      'clock',
      `this host's clock is ${seconds(Math.abs(skew))} ${skew > 0 ? 'ahead of' : 'behind'} the database's (tolerance ${seconds(toleranceMs)})`,
      'synchronise both clocks with NTP (timedatectl set-ntp true, or chronyd) on this host and on the database server',
    );
  return ok('clock', `within ${seconds(Math.abs(skew))} of the database's`);
}
