import type { WritConfig } from '../config/writ-config.js';

/**
 * Which container asks: `worker` runs the worker's checks and looks for a poller on this host,
 * `serve` the checks `writ serve` depends on, `all` (an operator at a shell) everything a whole
 * deployment needs, with any host's worker counting.
 */
export const DOCTOR_ROLES = ['all', 'worker', 'serve'] as const;
export type DoctorRole = (typeof DOCTOR_ROLES)[number];

export interface DoctorContext {
  role: DoctorRole;
  config: WritConfig;
  env: NodeJS.ProcessEnv;
  /** This host's name, as worker identities (`<pid>@<host>`) carry it. */
  host: string;
  /** The local clock, injectable so a test can skew it without touching the machine's. */
  now: () => number;
  clockToleranceMs: number;
}

/** The login a role's DATABASE_URL should be (deploy/postgres/initdb/writ-logins.psql). */
export function expectedLogin(role: DoctorRole): string {
  return role === 'serve' ? 'writ_serve' : 'writ_worker';
}
