import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { canonicalId } from '../../src/model/identity.js';
import type { OperationRequest } from '../../src/model/request.js';
import { parseRequest, requestJsonSchema, traceIdOf } from '../../src/model/request.js';
import { requestInput, step } from './builders.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

function accepted(input: unknown): OperationRequest {
  const result = parseRequest(input);
  assert.ok(result.ok, `expected the request to be accepted, got: ${result.ok ? '' : result.problem}`);
  return result.request;
}

function problemOf(input: unknown): string {
  const result = parseRequest(input);
  assert.equal(result.ok, false, 'expected the request to be refused');
  const { problem } = result as { problem: string };
  assert.ok(problem.length > 0);
  return problem;
}

/** A valid input with one top-level field replaced (or removed, with `undefined`). */
function withField(field: string, value: unknown): Record<string, unknown> {
  const input: Record<string, unknown> = { ...requestInput(), [field]: value };
  if (value === undefined) delete input[field];
  return input;
}

const hex = (length: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });
const traceparentArb = fc
  .tuple(
    hex(32).filter((s) => /[^0]/.test(s)),
    hex(16).filter((s) => /[^0]/.test(s)),
    hex(2),
  )
  .map(([traceId, parentId, flags]) => `00-${traceId}-${parentId}-${flags}`);

const validRequestArb = fc.record(
  {
    operationId: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/),
    actor: fc.record(
      {
        // Ids are canonicalised on the way in (model/identity.ts): any string that names someone.
        id: fc.string({ minLength: 1, maxLength: 64 }).filter((id) => canonicalId(id).ok),
        kind: fc.constantFrom('user' as const, 'service' as const),
        groups: fc.array(fc.string({ minLength: 1, maxLength: 20 }), { maxLength: 5 }),
      },
      { requiredKeys: ['id', 'kind'] },
    ),
    intent: fc.string({ minLength: 1, maxLength: 200 }).filter((s) => s.trim().length > 0),
    steps: fc.array(
      fc.record(
        {
          connector: fc.stringMatching(/^[a-z][a-z0-9-]{0,63}$/),
          action: fc.stringMatching(/^[a-z][a-z0-9-]{0,63}$/),
          target: fc.string({ minLength: 1, maxLength: 80 }),
          params: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }),
        },
        { requiredKeys: ['connector', 'action', 'target'] },
      ),
      { minLength: 1, maxLength: 5 },
    ),
    mode: fc.constantFrom('execute' as const, 'dry-run' as const),
    traceparent: traceparentArb,
    labels: fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9_.-]{0,62}$/), fc.string({ maxLength: 40 }), { maxKeys: 5 }),
  },
  { requiredKeys: ['actor', 'intent', 'steps'] },
);

describe('parseRequest', () => {
  describe('for a good request', () => {
    test('it is accepted with mode execute, no actor groups and empty params filled in', () => {
      const request = accepted({
        actor: { id: 'alice', kind: 'user' },
        intent: 'raise the account tier',
        steps: [{ connector: 'crm', action: 'update', target: 'crm.accounts/42' }],
      });
      assert.deepEqual(request, {
        actor: { id: 'alice', kind: 'user', groups: [] },
        intent: 'raise the account tier',
        steps: [{ connector: 'crm', action: 'update', target: 'crm.accounts/42', params: {} }],
        mode: 'execute',
      });
    });

    test('every optional field it gives is kept', () => {
      const input = requestInput({
        operationId: 'op-2025.01:renewal_42',
        mode: 'dry-run',
        traceparent: TRACEPARENT,
        labels: { env: 'prod', 'team.name': 'billing' },
      });
      assert.deepEqual(accepted(input), { ...input, mode: 'dry-run' });
    });

    test('the intent is trimmed', () => {
      assert.equal(accepted(withField('intent', '  raise the tier \n')).intent, 'raise the tier');
    });

    test('params may hold any JSON', () => {
      const params = {
        tier: 'gold',
        seats: 12,
        ratio: 0.5,
        active: true,
        note: null,
        tags: ['a', 'b'],
        nested: { deep: [{ x: 1 }] },
      };
      assert.deepEqual(
        accepted(withField('steps', [step('crm', 'update', 'crm.accounts/42', params)])).steps[0]!.params,
        params,
      );
    });

    test('an operationId of 128 characters and 50 steps are the upper limits', () => {
      accepted(withField('operationId', 'a'.repeat(128)));
      accepted(
        withField(
          'steps',
          Array.from({ length: 50 }, (_, i) => step('crm', 'update', `crm.accounts/${i}`)),
        ),
      );
    });
  });

  describe('for a request with a missing or empty field', () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['a missing intent', withField('intent', undefined), 'intent'],
      ['a blank intent', withField('intent', '   '), 'intent: intent must say why this write is made'],
      ['an intent over 2000 characters', withField('intent', 'x'.repeat(2001)), 'intent'],
      ['a missing actor', withField('actor', undefined), 'actor'],
      ['an empty actor id', withField('actor', { id: '', kind: 'user' }), 'actor.id: actor.id must not be empty'],
      ['an unknown actor kind', withField('actor', { id: 'alice', kind: 'robot' }), 'actor.kind'],
      ['an empty actor group', withField('actor', { id: 'alice', kind: 'user', groups: [''] }), 'actor.groups.0'],
      ['missing steps', withField('steps', undefined), 'steps'],
      ['empty steps', withField('steps', []), 'steps: steps must hold at least one step'],
      [
        'more than 50 steps',
        withField(
          'steps',
          Array.from({ length: 51 }, () => step('crm', 'update', 'x')),
        ),
        'steps',
      ],
    ];
    for (const [what, input, expected] of cases) {
      test(`${what} is refused and the problem names ${expected.split(':')[0]}`, () => {
        assert.ok(problemOf(input).includes(expected), problemOf(input));
      });
    }
  });

  describe('for a request with a malformed step', () => {
    const cases: Array<[string, unknown, string]> = [
      [
        'an upper-case connector',
        step('Postgres', 'update', 'x'),
        'steps.0.connector: connector must be a connector name',
      ],
      ['an action with punctuation', step('crm', 'update!', 'x'), 'steps.0.action: action must be an action name'],
      ['an empty target', step('crm', 'update', ''), 'steps.0.target: target must name what is written to'],
      ['a target over 1024 characters', step('crm', 'update', 'x'.repeat(1025)), 'steps.0.target'],
      ['params that are not an object', { ...step('crm', 'update', 'x'), params: [1, 2] }, 'steps.0.params'],
      ['a param that is not JSON', { ...step('crm', 'update', 'x'), params: { when: () => 1 } }, 'steps.0.params.when'],
      ['an unknown key in the step', { ...step('crm', 'update', 'x'), connecter: 'crm' }, 'steps.0'],
    ];
    for (const [what, badStep, expected] of cases) {
      test(`${what} is refused and the problem names ${expected.split(':')[0]}`, () => {
        const problem = problemOf(withField('steps', [badStep]));
        assert.ok(problem.includes(expected), problem);
      });
    }

    test('the problem points at the step that is wrong', () => {
      const problem = problemOf(
        withField('steps', [step('crm', 'update', 'a'), step('crm', 'update', 'b'), step('crm', 'BAD', 'c')]),
      );
      assert.match(problem, /^steps\.2\.action:/);
    });
  });

  describe('for a request with a bad traceparent', () => {
    const cases: Array<[string, string]> = [
      ['garbage', 'not-a-traceparent'],
      ['an all-zero trace id', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`],
      ['an all-zero parent id', `00-${TRACE_ID}-${'0'.repeat(16)}-01`],
      ['upper-case hex', TRACEPARENT.toUpperCase()],
      ['another version', `01-${TRACE_ID}-00f067aa0ba902b7-01`],
      ['a short trace id', `00-${TRACE_ID.slice(1)}-00f067aa0ba902b7-01`],
      ['trailing text', `${TRACEPARENT}-extra`],
    ];
    for (const [what, traceparent] of cases) {
      test(`${what} is refused and the problem names traceparent`, () => {
        assert.match(
          problemOf(withField('traceparent', traceparent)),
          /^traceparent: traceparent must follow W3C Trace Context/,
        );
      });
    }
  });

  describe('for a request with other bad fields', () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['an unknown mode', withField('mode', 'simulate'), 'mode'],
      [
        'an operationId starting with punctuation',
        withField('operationId', '-op'),
        'operationId: operationId must be 1-128',
      ],
      ['an operationId with a slash', withField('operationId', 'op/1'), 'operationId'],
      ['an operationId over 128 characters', withField('operationId', 'a'.repeat(129)), 'operationId'],
      ['an upper-case label name', withField('labels', { Env: 'prod' }), 'labels.Env'],
      ['a label value over 256 characters', withField('labels', { env: 'x'.repeat(257) }), 'labels.env'],
      ['a label value that is not a string', withField('labels', { env: 1 }), 'labels.env'],
    ];
    for (const [what, input, expected] of cases) {
      test(`${what} is refused and the problem names ${expected.split(':')[0]}`, () => {
        assert.ok(problemOf(input).includes(expected), problemOf(input));
      });
    }
  });

  describe('for a request with an unknown key', () => {
    test('an unknown top-level key is refused and named, rather than ignored', () => {
      const problem = problemOf({ ...requestInput(), approver: 'bob' });
      assert.match(problem, /^\(request\): /);
      assert.match(problem, /approver/);
    });

    test('an unknown key in the actor is refused', () => {
      assert.match(problemOf(withField('actor', { id: 'alice', kind: 'user', admin: true })), /^actor: .*admin/);
    });
  });

  describe('for something that is not an object', () => {
    for (const input of [null, undefined, 42, 'request', [], true]) {
      test(`${JSON.stringify(input) ?? 'undefined'} is refused as a whole request`, () => {
        assert.match(problemOf(input), /^\(request\): /);
      });
    }
  });

  test('every problem is reported, separated by semicolons', () => {
    const problem = problemOf({ actor: { id: '', kind: 'user' }, intent: '', steps: [] });
    assert.deepEqual(
      problem.split('; ').map((part) => part.split(':')[0]),
      ['actor.id', 'intent', 'steps'],
    );
  });

  describe('for arbitrary input', () => {
    test('it never throws, and either accepts or names a problem', () => {
      fc.assert(
        fc.property(
          fc.anything({
            withBigInt: true,
            withBoxedValues: true,
            withDate: true,
            withMap: true,
            withSet: true,
            withNullPrototype: true,
            withObjectString: true,
            withSparseArray: true,
            withTypedArray: true,
            withUnicodeString: true,
          }),
          (input) => {
            const result = parseRequest(input);
            if (!result.ok) {
              assert.equal(typeof result.problem, 'string');
              assert.ok(result.problem.length > 0);
            }
          },
        ),
        { numRuns: 2000 },
      );
    });

    test('when one field of a good request is replaced by junk, it never throws and any problem starts with that field', () => {
      fc.assert(
        fc.property(
          fc.constantFrom('operationId', 'actor', 'intent', 'steps', 'mode', 'traceparent', 'labels'),
          fc.anything({
            withBigInt: true,
            withDate: true,
            withMap: true,
            withNullPrototype: true,
            withUnicodeString: true,
          }),
          (field, junk) => {
            const result = parseRequest(withField(field, junk));
            if (!result.ok) assert.ok(result.problem.startsWith(field), `${field}: ${result.problem}`);
          },
        ),
        { numRuns: 2000 },
      );
    });

    test('any well-formed request is accepted, and parsing its result again changes nothing', () => {
      fc.assert(
        fc.property(validRequestArb, (input) => {
          const request = accepted(input);
          assert.equal(request.mode, input.mode ?? 'execute');
          assert.deepEqual(request.actor.groups, input.actor.groups ?? []);
          assert.equal(request.steps.length, input.steps.length);
          assert.deepEqual(accepted(request), request);
        }),
        { numRuns: 500 },
      );
    });
  });
});

describe('traceIdOf', () => {
  test('extracts the 32-hex trace id of a traceparent', () => {
    assert.equal(traceIdOf(TRACEPARENT), TRACE_ID);
  });

  test('for any valid traceparent, the trace id is its second field, and the request accepts it', () => {
    fc.assert(
      fc.property(traceparentArb, (traceparent) => {
        const traceId = traceIdOf(traceparent);
        assert.match(traceId, /^[0-9a-f]{32}$/);
        assert.equal(traceparent.slice(3, 35), traceId);
        assert.equal(accepted(withField('traceparent', traceparent)).traceparent, traceparent);
      }),
      { numRuns: 500 },
    );
  });
});

describe('requestJsonSchema', () => {
  const schema = requestJsonSchema() as {
    type: string;
    properties: Record<string, { type?: string; minItems?: number; maxItems?: number; default?: unknown }>;
    required: string[];
    additionalProperties: boolean;
  };

  test('describes an object whose properties include the steps, as a list of one to fifty', () => {
    assert.equal(schema.type, 'object');
    assert.ok(schema.properties.steps, 'no properties.steps');
    assert.equal(schema.properties.steps.type, 'array');
    assert.equal(schema.properties.steps.minItems, 1);
    assert.equal(schema.properties.steps.maxItems, 50);
  });

  test('names every field of the request', () => {
    assert.deepEqual(Object.keys(schema.properties).sort(), [
      'actor',
      'identity',
      'intent',
      'labels',
      'mode',
      'operationId',
      'steps',
      'traceparent',
    ]);
  });

  test('requires actor, intent and steps but not the defaulted mode, since it describes the input', () => {
    assert.deepEqual([...schema.required].sort(), ['actor', 'intent', 'steps']);
    assert.equal(schema.properties.mode?.default, 'execute');
  });

  test('refuses unknown keys, as the parser does', () => {
    assert.equal(schema.additionalProperties, false);
  });

  test('is plain JSON that survives serialisation', () => {
    assert.deepEqual(JSON.parse(JSON.stringify(schema)), schema);
  });
});
