import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { postgresConnector } from '../../src/connectors/postgres/index.js';
import { prepareRecord } from '../../src/ledger/record.js';
import type { RecordDraft } from '../../src/ledger/record.js';
import { runWrit } from '../support/cli.js';
import { withHooks } from '../support/hooked-connector.js';
import { ASSERTED_IDENTITIES } from '../support/identities.js';
import { asRole } from '../support/roles.js';
import { keygen } from '../support/signing-key.js';
import type { WritHarness } from '../support/writ.js';
import { startWrit, updateTier, waitFor, waitForState } from '../support/writ.js';

/** Record values are written by the people audited: the report must show this as text. */
export const HOSTILE_INTENT = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> raise tier';

/** A few seconds, so one emergency change is overdue by the time the report runs and the other was reviewed in time. */
export const REVIEW_HOURS = 0.003;

const policy = {
  id: 'report-policy',
  identity: ASSERTED_IDENTITIES,
  rules: [
    {
      name: 'acme-needs-a-manager',
      match: { connector: 'postgres', target: 'public.accounts/42' },
      risk: 'high',
      approvals: { required: 1, fromGroups: ['managers'] },
    },
  ],
};
const approvers = {
  approvers: [
    { id: 'alice', groups: ['managers', 'sales-ops'] },
    { id: 'bob', groups: ['managers'] },
    { id: 'dana', groups: ['oncall'] },
  ],
};

export interface Scenario {
  harness: WritHarness;
  dir: string;
  env: Record<string, string>;
  profilePath: string;
  from: Date;
  ops: { approved: string; intervention: string; emergencyLate: string; emergencyReviewed: string; ghost: string };
  manualChangeSeq: number;
  accessSeq: number;
  checkpointSize: number;
}

/**
 * What holders of writ_writer and writ_access_recorder can append, with exactly their roles: canonical
 * bytes under their own keys.
 */
async function appendAs(pool: pg.Pool, role: string, draft: RecordDraft): Promise<number> {
  const { canonical } = prepareRecord(draft);
  const inserted = await asRole(pool, role, (c) =>
    c.query<{ seq: string }>('INSERT INTO writ.records (canonical) VALUES ($1) RETURNING seq', [canonical]),
  );
  return Number(inserted.rows[0]!.seq);
}

/**
 * A change a writer forged: it ran although policy asked for a manager's approval, and an
 * "approval" by someone in no directory was appended after it ran. The path is one the lifecycle
 * allows, so only the report's reading of the approvals catches it.
 */
async function forgeGhost(pool: pg.Pool, directoryVersion: string): Promise<void> {
  const operationId = 'ghost-change';
  const actor = { id: 'mallory', kind: 'user' as const };
  const envelope = {
    operationId,
    actor,
    intent: 'quiet tier change',
    mode: 'execute',
    labels: {},
    requestedAt: new Date().toISOString(),
    targets: [
      {
        stepIndex: 0,
        connector: 'postgres',
        action: 'update',
        target: 'public.accounts/42',
        identity: 'postgres:public.accounts/42',
      },
    ],
  };
  const base = { operationId, actor };
  const decision = { risk: 'high', approvalsRequired: 1, approverGroups: ['managers'], directoryVersion };
  const drafts: RecordDraft[] = [
    {
      ...base,
      type: 'operation.planned',
      state: 'planned',
      payload: { envelope, identity: { verified: false, id: null, channel: 'asserted' } },
    },
    { ...base, type: 'policy.decided', state: 'validated', payload: { decision } },
    { ...base, type: 'step.executing', state: 'executing', stepIndex: 0, payload: { dryRun: false } },
    {
      ...base,
      type: 'approval.granted',
      payload: {
        kind: 'approve',
        approver: 'eve',
        directoryVersion,
        approverDiffersFromRequester: true,
        identityVerified: false,
      },
    },
    {
      ...base,
      type: 'operation.closed',
      state: 'closed',
      payload: {
        outcome: 'succeeded',
        path: ['planned', 'validated', 'executing', 'executed', 'verifying', 'verified', 'closed'],
      },
    },
  ];
  for (const draft of drafts) await appendAs(pool, 'writ_writer', draft);
}

async function record(env: Record<string, string>, args: string[]): Promise<void> {
  const result = await runWrit(['record', ...args], { env });
  assert.equal(result.code, 0, result.stderr);
}

type Faults = { sabotage: boolean; refuseRollback: boolean };

/** The stack, with a connector whose target another writer edits, and whose rollback the CRM refuses, on cue. */
function startStack(t: { after: (fn: () => Promise<void>) => void }, faults: Faults): Promise<WritHarness> {
  return startWrit(t, {
    policy,
    approvers,
    forgesRecords: true,
    connectors: (l) => [
      withHooks(postgresConnector({ pool: l.pool, allowLedgerDatabase: true }), {
        // Another writer changes the row between Writ's write and its read-back.
        beforeVerify: async () => {
          if (!faults.sabotage) return;
          faults.sabotage = false;
          await l.pool.query(`UPDATE accounts SET tier = 'bronze' WHERE id = 43`);
        },
        rollback: async () => {
          if (faults.refuseRollback) throw new Error('the CRM is read-only for maintenance');
        },
      }),
    ],
  });
}

const globex = (tier: string, labels?: Record<string, string>) =>
  updateTier({
    intent: `move Globex to ${tier}`,
    steps: [{ connector: 'postgres', action: 'update', target: 'public.accounts/43', params: { set: { tier } } }],
    ...(labels ? { labels } : {}),
  });

/** Governed operations: a self-approval attempt, a failed rollback resolved by hand, two emergency changes. */
async function runOperations(harness: WritHarness, faults: Faults, env: Record<string, string>) {
  const { writ } = harness;
  const { operationId: approved } = await writ.start(updateTier({ intent: HOSTILE_INTENT }));
  await waitForState(writ, approved, 'awaiting_approval');
  assert.equal((await writ.approve(approved, { approver: 'alice', reason: 'mine' })).accepted, false);
  assert.equal((await writ.approve(approved, { approver: 'bob', reason: 'renewal confirmed' })).accepted, true);
  assert.equal((await writ.result(approved)).outcome, 'succeeded');

  Object.assign(faults, { sabotage: true, refuseRollback: true });
  const { operationId: intervention } = await writ.start(globex('platinum'));
  await waitForState(writ, intervention, 'needs_intervention', 60_000);
  faults.refuseRollback = false;
  const resolution = { by: 'dana', action: 'set tier back by hand', reason: 'rollback refused in maintenance' };
  assert.equal((await writ.resolve(intervention, resolution)).accepted, true);
  assert.equal((await writ.result(intervention)).outcome, 'resolved_manually');

  const emergency = { change_class: 'emergency' };
  const { operationId: emergencyLate } = await writ.start(globex('gold', emergency));
  assert.equal((await writ.result(emergencyLate)).outcome, 'succeeded');
  const lateClosedAt = Date.now();
  const { operationId: emergencyReviewed } = await writ.start(globex('silver', emergency));
  assert.equal((await writ.result(emergencyReviewed)).outcome, 'succeeded');
  const review = ['--type', 'review', '--actor', 'carol', '--message', 'reviewed: outage fix'];
  await record(env, [...review, '--operation', emergencyReviewed]);
  return { ops: { approved, intervention, emergencyLate, emergencyReviewed, ghost: 'ghost-change' }, lateClosedAt };
}

/** Records outside governed operations: a change by hand, a forged change, a read of the evidence. */
async function recordAround(pool: pg.Pool, env: Record<string, string>, viewed: string) {
  await record(env, ['--type', 'change', '--actor', 'carol', '--message', 'raised the credit limit by hand']);
  const manualChangeSeq = Number(
    (await pool.query(`SELECT max(seq) AS s FROM writ.records WHERE event_type = 'manual.change'`)).rows[0].s,
  );
  const directoryVersion = (
    await pool.query(
      `SELECT record->'payload'->>'version' AS v FROM writ.records WHERE event_type = 'governance.directory'`,
    )
  ).rows[0].v as string;
  await forgeGhost(pool, directoryVersion);
  const accessSeq = await appendAs(pool, 'writ_access_recorder', {
    type: 'evidence.viewed',
    actor: { id: 'auditor-jo', kind: 'user', groups: [] },
    payload: {
      id: viewed,
      matchedBy: 'operation',
      operationIds: [viewed],
      format: 'timeline',
      requester: 'auditor-jo',
      via: 'writ serve',
    },
  });
  return { manualChangeSeq, accessSeq };
}

/** The soc2 profile with a review window of seconds, as a custom profile file. */
function fastReviewProfile(dir: string): string {
  const profile = JSON.parse(readFileSync(new URL('../../src/report/profiles/soc2.json', import.meta.url), 'utf8'));
  profile.id = 'soc2-fast-review';
  profile.settings.emergencyReviewHours = REVIEW_HOURS;
  const path = join(dir, 'soc2-fast-review.json');
  writeFileSync(path, JSON.stringify(profile));
  return path;
}

/** Every exception kind a real stack can produce, a checkpoint, and one record after it. */
export async function buildScenario(t: { after: (fn: () => Promise<void>) => void }): Promise<Scenario> {
  const dir = mkdtempSync(join(tmpdir(), 'writ-report-'));
  const keys = await keygen(dir);
  const faults = { sabotage: false, refuseRollback: false };
  const harness = await startStack(t, faults);
  const { pool, url } = harness.ledger;
  const env = { DATABASE_URL: url, ...keys.env, WRIT_VERIFIER_KEY: keys.verifierKey };
  const from = new Date(Date.now() - 60_000);
  const { ops, lateClosedAt } = await runOperations(harness, faults, env);
  const { manualChangeSeq, accessSeq } = await recordAround(pool, env, ops.approved);

  const checkpointed = await runWrit(['checkpoint'], { env });
  assert.equal(checkpointed.code, 0, checkpointed.stderr);
  const checkpointSize = Number((await pool.query('SELECT max(size) AS s FROM writ.checkpoints')).rows[0].s);
  await record(env, [
    '--type',
    'note',
    '--actor',
    'ops',
    '--message',
    'after the checkpoint',
    '--operation',
    ops.approved,
  ]);

  const due = lateClosedAt + REVIEW_HOURS * 3600_000 + 1000;
  await waitFor('the late emergency change to be overdue', async () => Date.now() > due, 30_000);
  return {
    harness,
    dir,
    env,
    profilePath: fastReviewProfile(dir),
    from,
    ops,
    manualChangeSeq,
    accessSeq,
    checkpointSize,
  };
}
