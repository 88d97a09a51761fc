import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BundleRecord } from '../../src/evidence/bundle/select.js';
import { ocsfEventMaker } from '../../src/evidence/ocsf/event.js';
import type { OcsfEvent } from '../../src/evidence/ocsf/event.js';
import { operationFacts } from '../../src/evidence/ocsf/steps.js';
import { loadOcsfFixture, ocsfProblems } from '../support/ocsf-schema.js';

const fixture = loadOcsfFixture();
const operationId = 'op-ocsf-unit';
const actor = { id: 'alice', kind: 'user', groups: ['sales-ops'] };

function entry(seq: number, type: string, fields: Record<string, unknown> = {}): BundleRecord {
  return {
    seq,
    chain: 'main',
    canonical: Buffer.alloc(0),
    prevHash: Buffer.alloc(32),
    hash: Buffer.alloc(32, seq),
    record: {
      v: 1,
      chain: 'main',
      eventId: `00000000-0000-4000-8000-00000000000${seq}`,
      type,
      operationId,
      correlationId: 'a'.repeat(32),
      stepIndex: null,
      state: null,
      actor,
      occurredAt: '2026-03-12T09:15:00.000Z',
      payload: {},
      ...fields,
    },
  };
}

const step = { stepIndex: 0, connector: 'postgres', action: 'insert', target: 'public.users/7' };
const records = [
  entry(1, 'operation.planned', { payload: { envelope: { mode: 'execute', targets: [step] } } }),
  entry(2, 'policy.decided', {
    payload: { steps: [{ ...step, effectiveAction: 'insert', effect: 'create', identity: 'postgres:public.users/7' }] },
  }),
  entry(3, 'step.executed', {
    stepIndex: 0,
    state: 'executed',
    payload: { before: null, after: { email: 'ada@example.org' } },
  }),
];

function events(accountTargets: string[]): OcsfEvent[] {
  const make = ocsfEventMaker(operationFacts(records.map((r) => r.record)), {
    productVersion: '0.1.0',
    accountTargets,
  });
  return records.map(make).filter((event): event is OcsfEvent => event !== undefined);
}

/** A copy of a conforming event with values set at dotted paths (undefined: removed). */
function broken(event: OcsfEvent, changes: Record<string, unknown>): OcsfEvent {
  const copy = structuredClone(event);
  for (const [path, value] of Object.entries(changes)) {
    const names = path.split('.');
    const last = names.pop()!;
    const parent = names.reduce((at, name) => at[name] as Record<string, unknown>, copy);
    if (value === undefined) delete parent[last];
    else parent[last] = value;
  }
  return copy;
}

describe('the OCSF 1.3.0 fixture and its checker', () => {
  test('the fixture states the two classes as OCSF 1.3.0 defines them', () => {
    assert.equal(fixture.version, '1.3.0');
    const required = (uid: string) =>
      Object.entries(fixture.classes[uid]!.attributes)
        .filter(([, spec]) => spec.requirement === 'required')
        .map(([name]) => name)
        .sort();
    assert.deepEqual(required('6003'), [
      'activity_id',
      'actor',
      'api',
      'category_uid',
      'class_uid',
      'metadata',
      'severity_id',
      'src_endpoint',
      'time',
      'type_uid',
    ]);
    assert.deepEqual(required('3001'), [
      'activity_id',
      'category_uid',
      'class_uid',
      'metadata',
      'severity_id',
      'time',
      'type_uid',
      'user',
    ]);
    assert.deepEqual(Object.keys(fixture.classes['6003']!.attributes.activity_id!.enum!), [
      '0',
      '1',
      '2',
      '3',
      '4',
      '99',
    ]);
    assert.equal(fixture.objects.metadata!.attributes.product!.requirement, 'required');
    assert.equal(fixture.objects.product!.attributes.vendor_name!.requirement, 'required');
    assert.equal(fixture.objects.api!.attributes.operation!.requirement, 'required');
  });

  test('a decision and a step, as API Activity and as Account Change, conform', () => {
    const api = events([]);
    assert.deepEqual(
      api.map((event) => [event.class_uid, event.type_uid]),
      [
        [6003, 600399],
        [6003, 600301],
      ],
    );
    const account = events(['postgres:public.users/*']);
    assert.deepEqual(
      account.map((event) => [event.class_uid, event.type_uid]),
      [
        [6003, 600399],
        [3001, 300101],
      ],
    );
    for (const event of [...api, ...account]) assert.deepEqual(ocsfProblems(event, fixture), []);
    assert.doesNotMatch(JSON.stringify([...api, ...account]), /ada@example\.org/);
  });

  test('the checker refuses an unknown class, a missing required attribute, a wrong type and an enum value out of range', () => {
    const [decision, executed] = events([]) as [OcsfEvent, OcsfEvent];
    const [, account] = events(['postgres:*']) as [OcsfEvent, OcsfEvent];
    const cases: Array<[OcsfEvent, RegExp]> = [
      [broken(executed, { class_uid: 6099 }), /unknown class_uid 6099/],
      [broken(executed, { actor: undefined }), /^actor: required, missing$/],
      [broken(account, { user: undefined }), /^user: required, missing$/],
      [broken(executed, { 'metadata.product.vendor_name': undefined }), /metadata\.product\.vendor_name: required/],
      [broken(executed, { time: '2026-03-12T09:15:00.000Z' }), /^time: .* is not a timestamp_t$/],
      [broken(executed, { resources: { uid: 'postgres:public.users/7' } }), /^resources: expected an array/],
      [broken(decision, { severity_id: 7 }), /^severity_id: 7 is not one of 0, 1, 2, 3, 4, 5, 6, 99$/],
      [broken(executed, { activity_id: 6, type_uid: 600306 }), /^activity_id: 6 is not one of/],
      [broken(account, { activity_id: 12, type_uid: 300112 }), /^activity_id: 12 is not one of/],
      [broken(executed, { 'actor.user.type_id': 4 }), /^actor\.user\.type_id: 4 is not one of/],
      [broken(executed, { type_uid: 600302 }), /type_uid 600302 is not class_uid \* 100 \+ activity_id/],
      [broken(executed, { severity: 'High' }), /^severity: "High" is not the caption Informational$/],
      [broken(executed, { params: {} }), /^params: not an attribute/],
      [broken(account, { user: { type: 'User' } }), /^user: needs at least one of account, name, uid$/],
      [broken(executed, { 'metadata.version': '1.1.0' }), /metadata\.version 1\.1\.0 is not 1\.3\.0/],
    ];
    for (const [event, expected] of cases) {
      const problems = ocsfProblems(event, fixture);
      assert.ok(
        problems.some((problem) => expected.test(problem)),
        `${expected} not among ${JSON.stringify(problems)}`,
      );
    }
  });
});
