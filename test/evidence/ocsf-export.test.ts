import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DECISION_EVENT_TYPES, EventType, isStepEvent } from '../../src/model/events.js';
import type { CliResult } from '../support/cli.js';
import { runWrit } from '../support/cli.js';
import { loadOcsfFixture, ocsfProblems } from '../support/ocsf-schema.js';
import type { OcsfScenario } from '../support/ocsf-scenario.js';
import { SENTINELS, ocsfScenario } from '../support/ocsf-scenario.js';

/** The parts of an exported event these tests read. */
interface Event {
  class_uid: number;
  category_uid: number;
  type_uid: number;
  activity_id: number;
  activity_name: string;
  status: string;
  status_id: number;
  status_code: string;
  severity: string;
  severity_id: number;
  time: number;
  metadata: { uid: string; correlation_uid?: string; version: string; product: { name: string } };
  unmapped: {
    writ: {
      seq: number;
      hash: string;
      chain: string;
      type: string;
      operation_id: string | null;
      step_index: number | null;
      dry_run?: boolean;
    };
  };
  actor: { user: { uid: string; groups?: Array<{ name: string }> } };
  api: { operation: string };
  resources: Array<{ uid: string }>;
  user?: { uid: string };
}

interface LedgerRow {
  seq: number;
  hash: Buffer;
  record: { type: string; eventId: string; correlationId: string | null; occurredAt: string; payload: unknown };
}

const fixture = loadOcsfFixture();
/** Payload members that hold states and params: values a SIEM must never receive. */
const STATE_MEMBERS = new Set(['before', 'after', 'observed', 'expected', 'wouldChange', 'restoring', 'restored']);

const exported = (type: string) => isStepEvent(type) || DECISION_EVENT_TYPES.has(type) || type === 'policy.decided';

function parse(result: CliResult): Event[] {
  assert.equal(result.code, 0, result.stdout + result.stderr);
  return result.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Event);
}

/** Every string in a record's states, at any depth: what must not be found in an export. */
function stateStrings(value: unknown, inState = false): string[] {
  if (typeof value === 'string') return inState && value.length >= 4 ? [value] : [];
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, item]) =>
    stateStrings(item, inState || (!Array.isArray(value) && STATE_MEMBERS.has(key))),
  );
}

describe('writ export --format ocsf, of real governed writes', () => {
  const cleanups: Array<() => Promise<void>> = [];
  let s: OcsfScenario;
  let env: NodeJS.ProcessEnv;
  let rows: LedgerRow[];
  let dir: string;
  const window = ['--from', new Date(Date.now() - 60_000).toISOString()];

  before(async () => {
    s = await ocsfScenario({ after: (fn) => cleanups.push(fn) });
    env = { DATABASE_URL: s.harness.ledger.url, WRIT_OCSF_ACCOUNT_TARGETS: '' };
    window.push('--to', new Date(Date.now() + 60_000).toISOString());
    const result = await s.harness.ledger.pool.query<LedgerRow>(
      'SELECT seq::int AS seq, hash, record FROM writ.records ORDER BY seq',
    );
    rows = result.rows;
    dir = mkdtempSync(join(tmpdir(), 'writ-ocsf-'));
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  const writ = (args: string[], extra: NodeJS.ProcessEnv = {}) => runWrit(args, { env: { ...env, ...extra } });
  const byOperation = (events: Event[], id: string) => events.filter((e) => e.unmapped.writ.operation_id === id);

  test('every decision and step record becomes exactly one event that conforms to OCSF 1.3.0 and leads back to its record', async () => {
    const events = parse(await writ(['export', '--format', 'ocsf', ...window]));
    for (const [index, event] of events.entries())
      assert.deepEqual(ocsfProblems(event, fixture), [], `line ${index + 1}: ${JSON.stringify(event)}`);
    const expected = rows.filter((row) => exported(row.record.type));
    assert.deepEqual(
      events.map((e) => e.unmapped.writ.seq),
      expected.map((row) => row.seq),
    );
    for (const [index, row] of expected.entries()) {
      const event = events[index]!;
      assert.equal(event.metadata.uid, row.record.eventId);
      assert.equal(event.metadata.correlation_uid, row.record.correlationId);
      assert.equal(event.unmapped.writ.hash, row.hash.toString('hex'));
      assert.equal(event.unmapped.writ.chain, 'main');
      assert.equal(event.unmapped.writ.type, row.record.type);
      assert.equal(event.time, Date.parse(row.record.occurredAt));
      assert.equal(event.metadata.product.name, 'Writ');
      assert.equal(event.metadata.version, '1.3.0');
    }
    // Each kind the scenario made is there: steps of all three phases, and every decision.
    const types = new Set(events.map((e) => e.unmapped.writ.type));
    for (const type of [
      EventType.policyDecided,
      EventType.approvalRefused,
      EventType.approvalGranted,
      EventType.approvalRejected,
      EventType.stepExecuting,
      EventType.stepExecuted,
      EventType.stepVerified,
      EventType.stepVerificationFailed,
      EventType.stepCompensated,
    ])
      assert.ok(types.has(type), `no ${type} event`);
  });

  test('no state, param, intent or reason reaches the export: only ids, types, statuses, actors, times and targets', async () => {
    const text = (await writ(['export', '--format', 'ocsf', ...window, '--account-target', 'postgres:public.users/*']))
      .stdout;
    const values = new Set([...Object.values(SENTINELS), ...rows.flatMap((row) => stateStrings(row.record.payload))]);
    assert.ok(values.has(SENTINELS.existingEmail), 'the scenario recorded the states it should');
    for (const value of values) assert.ok(!text.includes(value), `the export holds ${JSON.stringify(value)}`);
    assert.doesNotMatch(text, /"(before|after|observed|expected|params|payload|wouldChange|reason|intent)"/);
    assert.match(text, /"uid":"postgres:public\.users\/7"/);
  });

  test('the decisions say who decided and how it ended; a failed read-back and a rollback say so', async () => {
    const events = parse(await writ(['export', s.ids.approved, '--format', 'ocsf']));
    assert.deepEqual(new Set(events.map((e) => e.unmapped.writ.operation_id)), new Set([s.ids.approved]));
    const refused = events.find((e) => e.status_code === 'approval.refused')!;
    assert.deepEqual(
      [refused.activity_name, refused.status_id, refused.severity_id, refused.actor.user.uid],
      ['Approve', 2, 3, 'alice'],
    );
    const granted = events.find((e) => e.status_code === 'approval.granted')!;
    assert.deepEqual(
      [granted.status, granted.actor.user.uid, granted.actor.user.groups],
      ['Success', 'bob', [{ name: 'managers' }]],
    );
    assert.deepEqual(
      granted.resources.map((r) => r.uid),
      [s.ids.approved, 'postgres:public.accounts/42'],
    );
    const executed = events.find((e) => e.status_code === 'step.executed')!;
    assert.deepEqual(
      [executed.type_uid, executed.api.operation, executed.actor.user.uid, executed.resources[0]!.uid],
      [600303, 'postgres.update', 'alice', 'postgres:public.accounts/42'],
    );

    const rejection = parse(await writ(['export', s.ids.rejected, '--format', 'ocsf'])).find(
      (e) => e.status_code === 'approval.rejected',
    )!;
    assert.deepEqual(
      [rejection.activity_name, rejection.status, rejection.actor.user.uid],
      ['Reject', 'Success', 'carol'],
    );

    const rollback = parse(await writ(['export', s.ids.rolledBack, '--format', 'ocsf']));
    const failed = rollback.find((e) => e.status_code === 'step.verification_failed')!;
    assert.deepEqual([failed.activity_name, failed.status, failed.severity], ['Read', 'Failure', 'High']);
    const compensated = rollback.find((e) => e.status_code === 'step.compensated')!;
    assert.deepEqual([compensated.activity_name, compensated.status], ['Update', 'Success']);
  });

  test('steps on configured account targets are Account Change events; dry runs never are', async () => {
    const plain = byOperation(parse(await writ(['export', '--format', 'ocsf', ...window])), s.ids.users);
    assert.ok(plain.length > 0 && plain.every((e) => e.class_uid === 6003));
    const flagged = parse(
      await writ(['export', '--format', 'ocsf', ...window, '--account-target', 'postgres:public.users/*']),
    );
    const fromEnv = parse(
      await writ(['export', '--format', 'ocsf', ...window], {
        WRIT_OCSF_ACCOUNT_TARGETS: 'x:y, postgres:public.users/*',
      }),
    );
    assert.deepEqual(fromEnv, flagged);
    const steps = byOperation(flagged, s.ids.users).filter((e) => e.unmapped.writ.step_index !== null);
    assert.ok(steps.length > 0 && steps.every((e) => e.class_uid === 3001 && e.category_uid === 3));
    const executed = (stepIndex: number) =>
      steps.find((e) => e.unmapped.writ.step_index === stepIndex && e.status_code === 'step.executed')!;
    assert.deepEqual(
      [executed(0).activity_name, executed(0).type_uid, executed(0).user],
      ['Create', 300101, { uid: 'postgres:public.users/7' }],
    );
    assert.deepEqual(
      [executed(1).activity_id, executed(1).activity_name, executed(1).user!.uid],
      [99, 'Update', 'postgres:public.users/8'],
    );
    const dryRun = byOperation(flagged, s.ids.dryRun);
    assert.ok(dryRun.length > 0 && dryRun.every((e) => e.class_uid === 6003));
    assert.ok(dryRun.filter((e) => e.unmapped.writ.step_index !== null).every((e) => e.unmapped.writ.dry_run === true));
    for (const event of flagged) assert.deepEqual(ocsfProblems(event, fixture), []);
  });

  test('--out writes the same lines to a new file and never over an existing one', async () => {
    const out = join(dir, 'users.ocsf.jsonl');
    const stdout = await writ(['export', s.ids.users, '--format', 'ocsf']);
    const written = await writ(['export', s.ids.users, '--format', 'ocsf', '--out', out]);
    assert.equal(written.code, 0, written.stderr);
    assert.match(written.stdout, /wrote .*users\.ocsf\.jsonl: \d+ OCSF 1\.3\.0 event\(s\)/);
    assert.equal(readFileSync(out, 'utf8'), stdout.stdout);
    const again = await writ(['export', s.ids.approved, '--format', 'ocsf', '--out', out]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /exists: an OCSF export is written to a new file/);
    assert.equal(readFileSync(out, 'utf8'), stdout.stdout);
  });

  test('bad input is refused with a clear error and exit 2, and nothing is written', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['export', 'op-no-such-operation', '--format', 'ocsf'], /no records match/],
      [['export', s.ids.users, '--format', 'cef'], /unknown --format "cef": use bundle or ocsf/],
      [
        ['export', '--format', 'ocsf', '--from', '2001-01-01T00:00:00Z', '--to', '2001-01-02T00:00:00Z'],
        /no records match/,
      ],
      [['export', '--format', 'ocsf', '--from', 'yesterday', '--to', '2001-01-02T00:00:00Z'], /ISO 8601/],
      [['export', s.ids.users, '--format', 'ocsf', '--account-target', ' '], /--account-target needs a pattern/],
      [['export', s.ids.users, '--out', join(dir, 'bundle'), '--account-target', 'postgres:*'], /--format ocsf only/],
    ];
    for (const [index, [args, message]] of cases.entries()) {
      const out = join(dir, `refused-${index}.jsonl`);
      const result = await writ([...args, ...(args.includes('--out') ? [] : ['--out', out])]);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, message);
      assert.equal(result.stdout, '');
      assert.equal(existsSync(out), false, `${args.join(' ')} wrote ${out}`);
    }
    assert.equal(existsSync(join(dir, 'bundle')), false);
  });
});
