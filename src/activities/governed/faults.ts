/**
 * Fault injection for the crash tests: with WRIT_FAULT=<point>, the worker process kills itself
 * with SIGKILL the first time it reaches that point, exactly like a machine losing power. A file
 * named by WRIT_FAULT_ONCE_FILE records that it fired, so the restarted worker carries on.
 */
import { existsSync, writeFileSync } from 'node:fs';

export type FaultPoint =
  | 'after-plan'
  | 'after-validate'
  | 'before-execute'
  | 'after-execute'
  | 'after-executed-record'
  | 'after-verify'
  | 'before-close'
  | 'after-approval-requested'
  | 'after-compensation-failed-record';

export function faultPoint(point: FaultPoint): void {
  if (process.env.WRIT_FAULT !== point) return;
  const marker = process.env.WRIT_FAULT_ONCE_FILE;
  if (marker) {
    if (existsSync(marker)) return;
    writeFileSync(marker, point);
  }
  process.kill(process.pid, 'SIGKILL');
}
