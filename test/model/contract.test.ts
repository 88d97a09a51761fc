import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { RollbackContract } from '../../src/model/contract.js';
import { dryRunRefusal, isPivot } from '../../src/model/contract.js';
import { contract } from './builders.js';

const METHODS: Array<RollbackContract['method']> = ['inverse', 'snapshot-restore', 'compensate', 'none'];
const SIDE_EFFECTS: Array<RollbackContract['sideEffects']> = ['none', 'none-on-dry-run', 'some'];

const anyContract: fc.Arbitrary<RollbackContract> = fc.record({
  supportsDryRun: fc.boolean(),
  sideEffects: fc.constantFrom(...SIDE_EFFECTS),
  canRollback: fc.boolean(),
  method: fc.constantFrom(...METHODS),
  windowMs: fc.nat(),
  limitations: fc.string(),
});

describe('isPivot', () => {
  describe('when the action can be rolled back by a real method', () => {
    for (const method of ['inverse', 'snapshot-restore', 'compensate'] as const) {
      test(`a ${method} action is not a pivot`, () => {
        assert.equal(isPivot(contract({ method, canRollback: true })), false);
      });
    }
  });

  describe('when the rollback method is none', () => {
    test('the action is a pivot even if it claims it can roll back', () => {
      assert.equal(isPivot(contract({ method: 'none', canRollback: true })), true);
      assert.equal(isPivot(contract({ method: 'none', canRollback: false })), true);
    });
  });

  describe('when the action says it cannot roll back', () => {
    test('the action is a pivot whatever its method', () => {
      for (const method of METHODS) assert.equal(isPivot(contract({ method, canRollback: false })), true, method);
    });
  });

  test('dry-run support, side effects, window and limitations do not change whether an action is a pivot', () => {
    fc.assert(
      fc.property(anyContract, (c) => {
        assert.equal(isPivot(c), c.method === 'none' || !c.canRollback);
      }),
      { numRuns: 500 },
    );
  });
});

describe('dryRunRefusal', () => {
  describe('when the action does not support dry runs', () => {
    test('a dry run is refused for that reason, whatever its side effects', () => {
      for (const sideEffects of SIDE_EFFECTS) {
        assert.equal(
          dryRunRefusal(contract({ supportsDryRun: false, sideEffects })),
          'the action does not support dry runs',
        );
      }
    });
  });

  describe('when the action supports dry runs but has side effects even then', () => {
    test('a dry run is refused because of the side effects', () => {
      assert.equal(
        dryRunRefusal(contract({ supportsDryRun: true, sideEffects: 'some' })),
        'the action has side effects even on a dry run',
      );
    });
  });

  describe('when the action supports dry runs without side effects', () => {
    test('a dry run is allowed for an action with no side effects at all', () => {
      assert.equal(dryRunRefusal(contract({ supportsDryRun: true, sideEffects: 'none' })), null);
    });

    test('a dry run is allowed for an action with no side effects on a dry run', () => {
      assert.equal(dryRunRefusal(contract({ supportsDryRun: true, sideEffects: 'none-on-dry-run' })), null);
    });

    test('even an irreversible action may be dry-run', () => {
      assert.equal(
        dryRunRefusal(
          contract({ supportsDryRun: true, sideEffects: 'none-on-dry-run', method: 'none', canRollback: false }),
        ),
        null,
      );
    });
  });

  test('a dry run is allowed exactly when the action supports it and has no side effect on it', () => {
    fc.assert(
      fc.property(anyContract, (c) => {
        const refusal = dryRunRefusal(c);
        assert.equal(refusal === null, c.supportsDryRun && c.sideEffects !== 'some');
        if (refusal !== null) assert.ok(refusal.length > 0);
      }),
      { numRuns: 500 },
    );
  });
});
