/**
 * The conformance kit: the same checks against every connector action, built-in or yours.
 * It uses node:test and node:assert, so it runs inside any `node --test` file:
 *
 *   runConformance({ connector, action: 'update', fixture: async () => ({ ... }) });
 */
import { describe, test } from 'node:test';
import {
  agreesWithTarget,
  declaresContract,
  dryRunLeavesTargetUntouched,
  executesOnce,
  refusesBadParams,
  refusesLateRollback,
  rollsBack,
  verifyCatchesDrift,
  verifyCatchesTampering,
} from './cases.js';
import type { ConformanceSubject } from './subject.js';
import { kitFor } from './subject.js';

export type { ConformanceFixture, ConformanceSubject } from './subject.js';

// Users' CI reads these titles, in this order: a case keeps its title and its place.
export function runConformance(subject: ConformanceSubject): void {
  const kit = kitFor(subject);
  describe(`conformance: ${subject.name}.${subject.action}`, () => {
    test('declares a complete rollback contract', () => declaresContract(kit));
    test('refuses bad params with a message naming the field', () => refusesBadParams(kit));
    test('snapshot, execute and verify agree with the real target', () => agreesWithTarget(kit));
    test('executing twice with one idempotency key has one effect', () => executesOnce(kit));
    test('rollback restores the exact before state, or sends the compensating action', () => rollsBack(kit));
    test('a dry run leaves the real target untouched', (t) => dryRunLeavesTargetUntouched(kit, t));
    test('verify catches drift when the target changes between execute and verify', (t) => verifyCatchesDrift(kit, t));
    test('verify fails when the target stores something other than what was asked', (t) =>
      verifyCatchesTampering(kit, t));
    test('a rollback asked for after the window is refused', () => refusesLateRollback(kit));
  });
}
