/**
 * What a governed operation writes to the ledger, event by event, the way the workflow
 * (src/workflows/governed-write/) and its activities (src/activities/governed/) write it: the
 * same types, states, idempotency keys, payload shapes and lifecycle paths, with outcomes mixed
 * in the proportions a busy deployment might see. Only the outside systems are imagined.
 */
import { sha256Hex as sha256 } from '../../src/verify/hash.js';
import { operationEvent } from '../../src/activities/governed/events.js';
import type { EventType } from '../../src/model/events.js';
import type { RecordDraft } from '../../src/ledger/record.js';
import type { State } from '../../src/model/lifecycle.js';
import { firstIllegalStep } from '../../src/model/lifecycle.js';
import { DIRECTORY_VERSION, POLICY_REVISION } from './governance.js';
import type { Rng } from './random.js';

/** One record of a story and how long after the previous one of the same operation it happens. */
export interface StoryEvent {
  draft: RecordDraft;
  delayMs: number;
}

export const OUTCOME_WEIGHTS = {
  succeeded: 52,
  approved: 18,
  dry_run: 10,
  rolled_back: 5,
  rejected: 4,
  invalid: 4,
  failed: 4,
  expired: 2,
  resolved_manually: 1,
} as const;

const REQUESTERS = ['alice', 'dmitri', 'sync-crm', 'billing-job', 'ops-bot', 'priya', 'li.wei', 'nightly-reconcile'];
const APPROVERS = ['bob', 'carol', 'erin', 'farouk'];
const INTENTS = [
  'raise tier after renewal',
  'correct billing address',
  'close dormant account',
  'apply contract discount',
  'sync owner from CRM',
  'rotate webhook secret',
  'publish price list',
  'reassign region',
];
const TIERS = ['bronze', 'silver', 'gold', 'platinum'];

/** An activity's duration: tens to hundreds of milliseconds. */
const activity = (rng: Rng) => 20 + rng.exponential(120);

interface Target {
  stepIndex: number;
  connector: string;
  action: string;
  target: string;
  identity: string;
}

function targetOf(rng: Rng, stepIndex: number): Target {
  const kind = rng.weighted({ postgres: 6, http: 3, files: 1 });
  const key = rng.int(1, 250_000);
  if (kind === 'postgres')
    return {
      stepIndex,
      connector: 'postgres',
      action: 'update',
      target: `public.accounts/${key}`,
      identity: `postgres:public.accounts/${key}`,
    };
  if (kind === 'http')
    return {
      stepIndex,
      connector: 'http',
      action: 'patch',
      target: `/crm/contacts/${key}`,
      identity: `http:https://crm.internal/crm/contacts/${key}`,
    };
  return {
    stepIndex,
    connector: 'files',
    action: 'replace',
    target: `config/regions/${key % 400}.json`,
    identity: `files:/srv/config/regions/${key % 400}.json`,
  };
}

function rowOf(rng: Rng, target: Target): Record<string, unknown> {
  return {
    id: Number(target.target.replace(/\D+/g, '')) || 1,
    name: `account ${target.target.slice(-6)}`,
    tier: rng.pick(TIERS),
    balance: rng.int(0, 90_000) / 100,
    region: rng.pick(['eu-west', 'us-east', 'ap-south']),
  };
}

export interface StoryInput {
  operationId: string;
  traceId: string;
  requestedAt: Date;
}

/** Every record one operation writes, in order, with the time between them. */
export function operationStory(rng: Rng, input: StoryInput): StoryEvent[] {
  const story = rng.weighted(OUTCOME_WEIGHTS);
  const requester = rng.pick(REQUESTERS);
  const actor = {
    id: requester,
    kind: requester.includes('-') ? ('service' as const) : ('user' as const),
    groups: requester.includes('-') ? ['automation'] : ['sales-ops'],
  };
  const traceparent = `00-${input.traceId}-${rng.hex(8)}-01`;
  const ref = { operationId: input.operationId, correlationId: input.traceId, traceparent, actor };
  const stepCount = rng.weighted({ 1: 60, 2: 25, 3: 10, 4: 3, 5: 2 } as Record<string, number>);
  const targets = Array.from({ length: Number(stepCount) }, (_, i) => targetOf(rng, i));
  const mode = story === 'dry_run' ? 'dry-run' : 'execute';
  const envelope = {
    operationId: input.operationId,
    actor,
    correlationId: input.traceId,
    traceparent,
    intent: rng.pick(INTENTS),
    paramsHash: sha256(`${input.operationId}/params`),
    targets,
    mode,
    labels: rng.chance(0.3) ? { ticket: `OPS-${rng.int(1000, 9999)}` } : {},
    requestedAt: input.requestedAt.toISOString(),
  };
  const needsApproval = ['approved', 'rejected', 'expired'].includes(story) || (story === 'dry_run' && rng.chance(0.3));
  const decision = {
    policyId: 'production',
    policyRevision: POLICY_REVISION,
    directoryVersion: DIRECTORY_VERSION,
    matchedRules: needsApproval ? ['reviewed-changes-need-a-manager'] : [],
    risk: needsApproval ? 'high' : rng.pick(['low', 'medium']),
    approvalsRequired: needsApproval ? 1 : 0,
    approverGroups: needsApproval ? ['managers'] : [],
    requirements: needsApproval
      ? [{ source: 'rule reviewed-changes-need-a-manager', required: 1, fromGroups: ['managers'] }]
      : [],
    approvalWindowMs: 86_400_000,
    signedApprovals: false,
    reasons: needsApproval ? ['labels match review=yes'] : [],
  };
  const digest = sha256(`${input.operationId}/approval`);

  const workflow = { workflowId: input.operationId, runId: runId(input.operationId), activityAttempt: 1 };
  const events: StoryEvent[] = [];
  // The workflow's recorded path starts where every operation starts, as the verifiers check.
  const path: State[] = ['planned'];
  let delay = 0;
  const emit = (
    type: EventType,
    state: State | null,
    options: { stepIndex?: number; round?: number; payload?: Record<string, unknown>; after?: number } = {},
  ) => {
    const draft = operationEvent(ref, type, state, options) as RecordDraft;
    events.push({ draft: { ...draft, workflow }, delayMs: delay + (options.after ?? 0) });
    delay = 0;
  };
  const move = (state: State) => path.push(state);
  const close = (outcome: string, extra: Record<string, unknown> = {}) => {
    move('closed');
    const illegal = firstIllegalStep(path);
    if (illegal) throw new Error(`fixture story ${story} breaks the lifecycle at ${illegal.from} -> ${illegal.to}`);
    emit('operation.closed', 'closed', { payload: { outcome, path: [...path], ...extra }, after: 5 });
    return events;
  };

  emit('operation.planned', 'planned', { payload: { envelope } });
  if (story === 'invalid') {
    move('validation_failed');
    emit('operation.validation_failed', 'validation_failed', {
      payload: {
        problems: [
          `steps.0 (${targets[0]!.connector}.${targets[0]!.action} ${targets[0]!.target}): params: table public.accounts has no column(s) teir`,
        ],
      },
      after: activity(rng),
    });
    return close('invalid');
  }
  const befores = targets.map((t) => rowOf(rng, t));
  const versions = befores.map((row) => `sha256:${sha256(JSON.stringify(row))}`);
  delay = activity(rng);
  emit('policy.decided', null, { payload: { decision } });
  emit('operation.validated', 'validated', {
    payload: {
      targetVersions: versions,
      approvalDigest: digest,
      contracts: targets.map(() => ({ method: 'snapshot-restore', canRollback: true, windowMs: 86_400_000 })),
    },
  });
  move('validated');

  let round = 0;
  if (needsApproval && mode === 'execute') {
    move('awaiting_approval');
    const deadline = new Date(input.requestedAt.getTime() + 86_400_000).toISOString();
    emit('approval.requested', 'awaiting_approval', {
      round: 1,
      payload: { digest, required: 1, approverGroups: ['managers'], signed: false, deadline },
      after: 5,
    });
    if (rng.chance(0.15)) {
      emit('approval.refused', null, {
        round: ++round,
        after: rng.exponential(120_000),
        payload: {
          kind: 'approve',
          approver: requester,
          reason: 'looks right to me',
          digest,
          signed: false,
          approverGroups: [],
          refusal: 'the requester cannot approve their own operation',
          approverDiffersFromRequester: false,
        },
      });
    }
    const approver = rng.pick(APPROVERS);
    const wait = 60_000 + rng.exponential(40 * 60_000);
    if (story === 'expired') {
      move('expired');
      emit('operation.expired', 'expired', { after: 86_400_000, payload: { deadline, granted: 0, required: 1 } });
      return close('expired');
    }
    if (story === 'rejected') {
      emit('approval.rejected', null, {
        round: ++round,
        after: wait,
        payload: {
          kind: 'reject',
          approver,
          reason: 'not this quarter',
          digest,
          signed: false,
          approverGroups: ['managers'],
          approverDiffersFromRequester: true,
        },
      });
      move('rejected');
      emit('operation.rejected', 'rejected', { payload: { approver, reason: 'not this quarter' }, after: 3 });
      return close('rejected');
    }
    emit('approval.granted', null, {
      round: ++round,
      after: wait,
      payload: {
        kind: 'approve',
        approver,
        reason: 'checked against the contract',
        digest,
        signed: false,
        approverGroups: ['managers'],
        approverDiffersFromRequester: true,
      },
    });
    move('approved');
    emit('operation.approved', 'approved', { round: 1, payload: { digest, approvers: [approver] }, after: 3 });
  } else if (needsApproval) {
    emit('approval.not_requested', null, {
      payload: { reason: 'dry run: the real run would wait for approval', required: 1, approverGroups: ['managers'] },
      after: 3,
    });
  }

  // Which step goes wrong, if any: the last one, so the earlier ones have something to undo.
  const last = targets.length - 1;
  const executed: number[] = [];
  for (const target of targets) {
    const i = target.stepIndex;
    const before = befores[i]!;
    const after = { ...before, tier: rng.pick(TIERS) };
    move('executing');
    emit('step.executing', 'executing', {
      stepIndex: i,
      payload: { target, before: { version: versions[i], state: before }, dryRun: mode === 'dry-run' },
      after: activity(rng),
    });
    if (story === 'failed' && i === 0) {
      move('execution_failed');
      emit('step.execution_failed', 'execution_failed', {
        stepIndex: i,
        payload: { error: `row ${target.target} changed since validation (version mismatch)` },
        after: activity(rng),
      });
      return close('failed', { cause: 'step 1 failed to execute' });
    }
    move('executed');
    if (mode === 'dry-run') {
      emit('step.executed', 'executed', {
        stepIndex: i,
        payload: { dryRun: true, wouldChange: { before, after }, summary: `would update ${target.target}` },
        after: activity(rng),
      });
    } else {
      emit('step.executed', 'executed', {
        stepIndex: i,
        payload: { dryRun: false, before, after, detail: { repeated: false } },
        after: activity(rng),
      });
      executed.push(i);
    }
    move('verifying');
    delay = activity(rng);
    emit('step.verifying', 'verifying', { stepIndex: i });
    const breaks = (story === 'rolled_back' || story === 'resolved_manually') && i === last;
    if (breaks) {
      const observed = { ...after, tier: before.tier };
      const reason = 'column(s) tier differ from what was written';
      move('verification_failed');
      emit('step.verification_failed', 'verification_failed', {
        stepIndex: i,
        payload: { ok: false, observed, expected: after, reason, dryRun: false },
      });
      const cause = `step ${i + 1} failed verification: ${reason}`;
      move('compensating');
      const failures: string[] = [];
      for (const undo of [...executed].reverse()) {
        emit('step.compensating', 'compensating', {
          stepIndex: undo,
          payload: { method: 'snapshot-restore', restoring: befores[undo] },
          after: activity(rng),
        });
        if (story === 'resolved_manually' && undo === executed[0]) {
          const error = 'rollback window of 86400000 ms has passed';
          failures.push(`step ${undo + 1}: ${error}`);
          emit('step.compensation_failed', 'compensating', {
            stepIndex: undo,
            payload: { error },
            after: activity(rng),
          });
        } else {
          emit('step.compensated', 'compensating', {
            stepIndex: undo,
            payload: { method: 'snapshot-restore', restored: befores[undo], detail: {} },
            after: activity(rng),
          });
        }
      }
      if (!failures.length) {
        move('compensated');
        emit('operation.compensated', 'compensated', { payload: { cause, steps: executed }, after: 5 });
        return close('rolled_back', { cause });
      }
      move('compensation_failed');
      move('needs_intervention');
      emit('operation.compensation_failed', 'compensation_failed', { payload: { cause, failures }, after: 5 });
      emit('operation.needs_intervention', 'needs_intervention', {
        payload: {
          cause,
          failures,
          howToResolve: `writ resolve ${input.operationId} --as <who> --action <what was done> --reason <why>`,
        },
      });
      const resolution = {
        by: rng.pick(APPROVERS),
        action: 'restored the row by hand from the snapshot',
        reason: 'customer confirmed',
      };
      emit('operation.resolved', 'needs_intervention', {
        payload: resolution,
        after: 3_600_000 + rng.exponential(3_600_000),
      });
      return close('resolved_manually', { cause, resolution });
    }
    move('verified');
    emit('step.verified', 'verified', {
      stepIndex: i,
      payload: {
        ok: true,
        observed: mode === 'dry-run' ? before : after,
        expected: mode === 'dry-run' ? before : after,
        dryRun: mode === 'dry-run',
      },
    });
  }
  return close(mode === 'dry-run' ? 'dry_run' : 'succeeded');
}

/** Temporal run ids are UUIDs; derived from the operation id so that retelling a story gives the same bytes. */
function runId(operationId: string): string {
  const h = sha256(`run/${operationId}`);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
