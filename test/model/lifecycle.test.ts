import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { Outcome, State } from '../../src/model/lifecycle.js';
import {
  CLOSING_OUTCOMES,
  IllegalTransitionError,
  OUTCOMES,
  STATES,
  TRANSITIONS,
  assertClosingOutcome,
  assertTransition,
  closedPathProblem,
  firstIllegalStep,
} from '../../src/model/lifecycle.js';

const ALLOWED: Array<[State, State]> = STATES.flatMap((from) =>
  TRANSITIONS[from].map((to): [State, State] => [from, to]),
);
const FORBIDDEN: Array<[State, State]> = STATES.flatMap((from) =>
  STATES.filter((to) => !TRANSITIONS[from].includes(to)).map((to): [State, State] => [from, to]),
);

const HAPPY_PATH: State[] = ['planned', 'validated', 'executing', 'executed', 'verifying', 'verified', 'closed'];
const APPROVAL_PATH: State[] = [
  'planned',
  'validated',
  'awaiting_approval',
  'approved',
  'executing',
  'executed',
  'verifying',
  'verified',
  'closed',
];
const COMPENSATION_PATH: State[] = [
  'planned',
  'validated',
  'executing',
  'execution_failed',
  'compensating',
  'compensation_failed',
  'needs_intervention',
  'closed',
];

/** Asserts that `action` throws an IllegalTransitionError whose message passes `check`. */
function assertIllegal(action: () => void, check: (message: string) => void): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof IllegalTransitionError, `expected an IllegalTransitionError, got ${String(error)}`);
    assert.ok(error instanceof Error);
    assert.equal(error.name, 'IllegalTransitionError');
    check(error.message);
    return true;
  });
}

/** Everything reachable from `start` by following the table. */
function reachableFrom(start: State): Set<State> {
  const seen = new Set<State>([start]);
  const queue: State[] = [start];
  while (queue.length) {
    for (const next of TRANSITIONS[queue.shift()!]) {
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return seen;
}

/** A walk through the table from `start`, each choice picking one of the allowed successors. */
function walk(start: State, choices: readonly number[]): State[] {
  const path: State[] = [start];
  for (const choice of choices) {
    const successors = TRANSITIONS[path[path.length - 1]!];
    if (!successors.length) break;
    path.push(successors[choice % successors.length]!);
  }
  return path;
}

describe('the lifecycle transition table', () => {
  test('is exactly the documented lifecycle, so a change to it is deliberate', () => {
    assert.deepEqual(TRANSITIONS, {
      planned: ['validated', 'validation_failed'],
      validated: ['awaiting_approval', 'executing'],
      awaiting_approval: ['approved', 'rejected', 'expired'],
      approved: ['executing', 'awaiting_approval'],
      executing: ['executed', 'execution_failed'],
      executed: ['verifying'],
      verifying: ['verified', 'verification_failed'],
      verified: ['executing', 'closed'],
      validation_failed: ['closed'],
      rejected: ['closed'],
      expired: ['closed'],
      execution_failed: ['compensating', 'closed'],
      verification_failed: ['compensating', 'closed'],
      compensating: ['compensated', 'compensation_failed'],
      compensated: ['closed'],
      compensation_failed: ['needs_intervention'],
      needs_intervention: ['closed'],
      closed: [],
    });
  });

  test('has an entry for every state and names only known states', () => {
    assert.deepEqual(Object.keys(TRANSITIONS).sort(), [...STATES].sort());
    for (const [, to] of ALLOWED) assert.ok(STATES.includes(to), `${to} is not a state`);
  });

  test('has closed as its only terminal state', () => {
    assert.deepEqual(
      STATES.filter((state) => TRANSITIONS[state].length === 0),
      ['closed'],
    );
  });

  test('lets no state move to itself', () => {
    for (const state of STATES) assert.ok(!TRANSITIONS[state].includes(state), `${state} -> ${state} is listed`);
  });

  test('reaches every state from planned', () => {
    assert.deepEqual([...reachableFrom('planned')].sort(), [...STATES].sort());
  });

  test('lets every state eventually close, so no operation can get stuck', () => {
    for (const state of STATES) assert.ok(reachableFrom(state).has('closed'), `${state} cannot reach closed`);
  });

  test('has no way back to planned', () => {
    for (const [from, to] of ALLOWED) assert.notEqual(to, 'planned', `${from} -> planned is listed`);
  });
});

describe('assertTransition', () => {
  describe('for every transition the table allows', () => {
    for (const [from, to] of ALLOWED) {
      test(`${from} -> ${to} is accepted`, () => {
        assert.equal(assertTransition(from, to), undefined);
      });
    }
  });

  describe('when a step skips validation (planned -> executing)', () => {
    test('it throws an IllegalTransitionError naming both states and what is allowed instead', () => {
      assertIllegal(
        () => assertTransition('planned', 'executing'),
        (message) => {
          assert.match(message, /planned -> executing/);
          assert.match(message, /allowed from planned: validated, validation_failed/);
        },
      );
    });
  });

  describe('when an operation awaiting approval tries to execute without it (awaiting_approval -> executing)', () => {
    test('it throws an IllegalTransitionError naming both states', () => {
      assertIllegal(
        () => assertTransition('awaiting_approval', 'executing'),
        (message) => {
          assert.match(message, /awaiting_approval/);
          assert.match(message, /executing/);
        },
      );
    });
  });

  describe('when an executed step closes without verification (executed -> closed)', () => {
    test('it throws an IllegalTransitionError naming both states', () => {
      assertIllegal(
        () => assertTransition('executed', 'closed'),
        (message) => {
          assert.match(message, /executed -> closed/);
        },
      );
    });
  });

  describe('when a rejected operation tries to execute (rejected -> executing)', () => {
    test('it throws an IllegalTransitionError naming both states', () => {
      assertIllegal(
        () => assertTransition('rejected', 'executing'),
        (message) => {
          assert.match(message, /rejected -> executing/);
        },
      );
    });
  });

  describe('when a closed operation tries to move anywhere', () => {
    for (const to of STATES) {
      test(`closed -> ${to} throws and says nothing is allowed`, () => {
        assertIllegal(
          () => assertTransition('closed', to),
          (message) => {
            assert.match(message, new RegExp(`closed -> ${to}\\b`));
            assert.match(message, /allowed from closed: none/);
          },
        );
      });
    }
  });

  test('every pair the table does not list throws an IllegalTransitionError naming both states', () => {
    assert.ok(FORBIDDEN.length > 0);
    for (const [from, to] of FORBIDDEN) {
      assertIllegal(
        () => assertTransition(from, to),
        (message) => {
          assert.ok(message.includes(`${from} -> ${to}`), `message "${message}" does not name ${from} -> ${to}`);
        },
      );
    }
  });
});

describe('assertClosingOutcome', () => {
  test('each closing state has exactly its documented outcomes', () => {
    assert.deepEqual(CLOSING_OUTCOMES, {
      verified: ['succeeded', 'dry_run'],
      validation_failed: ['invalid'],
      rejected: ['rejected'],
      expired: ['expired'],
      compensated: ['rolled_back'],
      execution_failed: ['failed'],
      verification_failed: ['failed'],
      needs_intervention: ['resolved_manually'],
    });
  });

  test('only a verified operation may close as succeeded', () => {
    for (const state of STATES) {
      if (state === 'verified') continue;
      assert.throws(() => assertClosingOutcome(state, 'succeeded'), IllegalTransitionError, state);
    }
  });

  test('the states that may close with an outcome are exactly the states that may move to closed', () => {
    const closable = STATES.filter((state) => TRANSITIONS[state].includes('closed')).sort();
    assert.deepEqual(Object.keys(CLOSING_OUTCOMES).sort(), closable);
  });

  test('every outcome can be reached from some closing state', () => {
    const reachable = new Set(Object.values(CLOSING_OUTCOMES).flat());
    assert.deepEqual([...reachable].sort(), [...OUTCOMES].sort());
  });

  test('accepts every state/outcome pair CLOSING_OUTCOMES lists and refuses every other pair', () => {
    for (const state of STATES) {
      for (const outcome of OUTCOMES) {
        const allowed = CLOSING_OUTCOMES[state]?.includes(outcome) ?? false;
        if (allowed) {
          assert.equal(assertClosingOutcome(state, outcome), undefined);
        } else {
          assertIllegal(
            () => assertClosingOutcome(state, outcome),
            (message) => {
              assert.equal(message, `an operation in state ${state} cannot close as ${outcome}`);
            },
          );
        }
      }
    }
  });

  const examples: Array<[State, Outcome, boolean]> = [
    ['verified', 'succeeded', true],
    ['verified', 'dry_run', true],
    ['verified', 'failed', false],
    ['validation_failed', 'invalid', true],
    ['rejected', 'rejected', true],
    ['rejected', 'succeeded', false],
    ['expired', 'expired', true],
    ['compensated', 'rolled_back', true],
    ['compensated', 'succeeded', false],
    ['execution_failed', 'failed', true],
    ['verification_failed', 'failed', true],
    ['needs_intervention', 'resolved_manually', true],
    ['needs_intervention', 'rolled_back', false],
    ['executing', 'succeeded', false],
    ['closed', 'succeeded', false],
  ];
  for (const [state, outcome, allowed] of examples) {
    test(`an operation in state ${state} ${allowed ? 'may' : 'may not'} close as ${outcome}`, () => {
      if (allowed) assert.doesNotThrow(() => assertClosingOutcome(state, outcome));
      else assert.throws(() => assertClosingOutcome(state, outcome), IllegalTransitionError);
    });
  }
});

describe('firstIllegalStep', () => {
  describe('for a path that follows the table', () => {
    test('the happy path has no illegal step', () => {
      assert.equal(firstIllegalStep(HAPPY_PATH), null);
    });

    test('the approval path has no illegal step', () => {
      assert.equal(firstIllegalStep(APPROVAL_PATH), null);
    });

    test('the compensation path that ends in manual intervention has no illegal step', () => {
      assert.equal(firstIllegalStep(COMPENSATION_PATH), null);
    });

    test('a multi-step operation, a stale approval sent back for approval and a rolled-back verification failure have no illegal step', () => {
      assert.equal(
        firstIllegalStep([
          'planned',
          'validated',
          'executing',
          'executed',
          'verifying',
          'verified',
          'executing',
          'executed',
          'verifying',
          'verified',
          'closed',
        ]),
        null,
      );
      assert.equal(
        firstIllegalStep([
          'planned',
          'validated',
          'awaiting_approval',
          'approved',
          'awaiting_approval',
          'approved',
          'executing',
        ]),
        null,
      );
      assert.equal(
        firstIllegalStep([
          'planned',
          'validated',
          'executing',
          'executed',
          'verifying',
          'verification_failed',
          'compensating',
          'compensated',
          'closed',
        ]),
        null,
      );
      assert.equal(firstIllegalStep(['planned', 'validated', 'awaiting_approval', 'rejected', 'closed']), null);
    });

    test('an empty path and a single state have no illegal step', () => {
      assert.equal(firstIllegalStep([]), null);
      for (const state of STATES) assert.equal(firstIllegalStep([state]), null);
    });

    test('any random walk through the table has no illegal step', () => {
      fc.assert(
        fc.property(fc.constantFrom(...STATES), fc.array(fc.nat(), { maxLength: 60 }), (start, choices) => {
          assert.equal(firstIllegalStep(walk(start, choices)), null);
        }),
        { numRuns: 1000 },
      );
    });
  });

  describe('for a path with an illegal step', () => {
    test('it reports the index and both states of that step', () => {
      assert.deepEqual(firstIllegalStep(['planned', 'executing', 'executed']), {
        index: 1,
        from: 'planned',
        to: 'executing',
      });
    });

    test('it reports the first of several illegal steps', () => {
      assert.deepEqual(
        firstIllegalStep(['planned', 'validated', 'awaiting_approval', 'executing', 'closed', 'planned']),
        { index: 3, from: 'awaiting_approval', to: 'executing' },
      );
    });

    test('it reports a repeated state as illegal', () => {
      assert.deepEqual(firstIllegalStep(['planned', 'validated', 'validated']), {
        index: 2,
        from: 'validated',
        to: 'validated',
      });
    });

    test('it reports a step after closed as illegal', () => {
      assert.deepEqual(firstIllegalStep([...HAPPY_PATH, 'executing']), {
        index: HAPPY_PATH.length,
        from: 'closed',
        to: 'executing',
      });
    });

    test('for a random legal walk followed by a forbidden step and anything after, it points at that forbidden step', () => {
      fc.assert(
        fc.property(
          fc.array(fc.nat(), { maxLength: 40 }),
          fc.nat(),
          fc.array(fc.constantFrom(...STATES), { maxLength: 10 }),
          (choices, pick, tail) => {
            const legal = walk('planned', choices);
            const last = legal[legal.length - 1]!;
            const forbidden = STATES.filter((state) => !TRANSITIONS[last].includes(state));
            const bad = forbidden[pick % forbidden.length]!;
            assert.deepEqual(firstIllegalStep([...legal, bad, ...tail]), { index: legal.length, from: last, to: bad });
          },
        ),
        { numRuns: 1000 },
      );
    });

    test('agrees with assertTransition on every pair of states', () => {
      for (const from of STATES) {
        for (const to of STATES) {
          let threw = false;
          try {
            assertTransition(from, to);
          } catch {
            threw = true;
          }
          assert.equal(firstIllegalStep([from, to]) !== null, threw, `${from} -> ${to}`);
        }
      }
    });
  });
});

describe('closedPathProblem, as the verifiers judge a closing record', () => {
  const APPROVAL: State[] = [
    'planned',
    'validated',
    'awaiting_approval',
    'approved',
    'executing',
    'executed',
    'verifying',
    'verified',
    'closed',
  ];
  const recordsOf = (path: State[]) => path.slice(0, -1);

  test('every path the workflow takes, with the states its records carry, is accepted', () => {
    const cases: Array<[State[], Outcome, (State | null)[]]> = [
      [HAPPY_PATH, 'succeeded', recordsOf(HAPPY_PATH)],
      [HAPPY_PATH, 'dry_run', [...recordsOf(HAPPY_PATH), null]],
      [APPROVAL, 'succeeded', recordsOf(APPROVAL)],
      [['planned', 'validation_failed', 'closed'], 'invalid', ['planned', 'validation_failed', 'validation_failed']],
      [
        ['planned', 'validated', 'awaiting_approval', 'rejected', 'closed'],
        'rejected',
        ['planned', null, 'validated', 'awaiting_approval', null, 'rejected'],
      ],
      [
        [
          'planned',
          'validated',
          'awaiting_approval',
          'approved',
          'awaiting_approval',
          'approved',
          'executing',
          'executed',
          'verifying',
          'verified',
          'executing',
          'executed',
          'verifying',
          'verified',
          'closed',
        ],
        'succeeded',
        [
          'planned',
          'validated',
          'awaiting_approval',
          'approved',
          null,
          'awaiting_approval',
          'approved',
          'executing',
          'executed',
          'verifying',
          'verified',
          'executing',
          'executed',
          'verifying',
          'verified',
        ],
      ],
      [
        [
          'planned',
          'validated',
          'executing',
          'executed',
          'verifying',
          'verification_failed',
          'compensating',
          'compensation_failed',
          'needs_intervention',
          'closed',
        ],
        'resolved_manually',
        [
          'planned',
          'validated',
          'executing',
          'executed',
          'verifying',
          'verification_failed',
          'compensating',
          'compensating',
          'compensation_failed',
          'needs_intervention',
          'needs_intervention',
        ],
      ],
      // Records need not name every state the path passed through.
      [HAPPY_PATH, 'succeeded', ['planned']],
    ];
    for (const [path, outcome, recorded] of cases)
      assert.equal(closedPathProblem(path, outcome, recorded), null, path.join(' -> '));
  });

  test('a path that closes straight from executing names that step', () => {
    assert.equal(
      closedPathProblem(['planned', 'validated', 'executing', 'closed'], 'succeeded', [])?.step,
      'executing -> closed',
    );
  });

  test('a path that skips approval cannot close an operation whose records say it waited for one and was rejected', () => {
    const problem = closedPathProblem(HAPPY_PATH, 'succeeded', [
      'planned',
      'validated',
      'awaiting_approval',
      'rejected',
    ]);
    assert.equal(problem?.step, 'validated -> awaiting_approval');
    assert.match(problem!.detail, /pass through awaiting_approval after validated, which the closing path does not/);
  });

  test('an outcome the state before closed does not allow is named with that step', () => {
    assert.equal(
      closedPathProblem(['planned', 'validated', 'awaiting_approval', 'rejected', 'closed'], 'succeeded', [])?.step,
      'rejected -> closed',
    );
    assert.equal(closedPathProblem(HAPPY_PATH, 'nonsense', [])?.step, 'verified -> closed');
  });

  test('a path that does not start at planned, does not end at closed, or is not a list of states is refused', () => {
    assert.equal(closedPathProblem(HAPPY_PATH.slice(1), 'succeeded', [])?.step, '(start) -> validated');
    assert.equal(closedPathProblem(HAPPY_PATH.slice(0, -1), 'succeeded', [])?.step, 'verified -> (end)');
    for (const path of [undefined, 'planned,closed', ['planned'], ['planned', 'nowhere', 'closed'], [1, 2]])
      assert.equal(closedPathProblem(path, 'succeeded', [])?.step, 'path');
  });

  test('records in an order the path does not take are refused', () => {
    assert.equal(
      closedPathProblem(HAPPY_PATH, 'succeeded', ['planned', 'executing', 'validated'])?.step,
      'executing -> validated',
    );
  });
});
