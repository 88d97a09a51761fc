import { quorumReached } from '../../model/approval.js';
import { EventType } from '../../model/events.js';
import type { GovernedActivities } from './activities.js';
import type { Closed, OperationRun } from './operation.js';
import { showPlanned } from './plan.js';

/** Before it, `approval.requested` was appended by a local activity (see GovernedActivities.scheduledLedger). */
const DEADLINE_SCHEDULED_PATCH = 'writ-approval-request-scheduled';

type Validation = Awaited<ReturnType<GovernedActivities['checks']['validate']>>;

/**
 * Waits for approval when policy asks for it, bound to a digest; a target changed since the
 * approval sends it back for another round. Returns the version each step's target must still be
 * when the step runs (as validated, or as re-read right after the approval that named these
 * versions in its digest), or the closed operation when it was rejected or expired.
 */
export async function approvalRounds(
  run: OperationRun,
  activities: GovernedActivities,
  validation: Validation,
): Promise<string[] | Closed> {
  const envelope = validation.envelope;
  const decision = envelope.policy;
  const validated = validation.snapshots.map((snapshot) => snapshot.version);
  if (decision.approvalsRequired > 0 && envelope.mode === 'execute') {
    for (let round = 1; ; round++) {
      const ended = await approvalRound(run, round);
      if (ended) return ended;
      const current = await activities.checks.revalidate(envelope, run.request, run.digest ?? undefined);
      if (current.approvalDigest === run.digest) return current.versions;
      await run.record(EventType.approvalStale, null, {
        round,
        payload: {
          approvedDigest: run.digest,
          currentDigest: current.approvalDigest,
          approvedVersions: validated,
          currentVersions: current.versions,
          policyRevision: current.policyRevision,
        },
      });
      run.digest = current.approvalDigest;
      showPlanned(run, current.planned);
      run.granted = [];
    }
  } else if (decision.approvalsRequired > 0) {
    await run.record(EventType.approvalNotRequested, null, {
      payload: {
        reason: 'dry run: the real run would wait for approval',
        required: decision.approvalsRequired,
        approverGroups: decision.approverGroups,
      },
    });
  }
  return validated;
}

/**
 * Records the request for approval and moves to awaiting_approval; returns how long to wait.
 * The deadline comes from the workflow's clock, which a workflow task retried after its node died
 * reads anew: the request is appended by a regular activity, from input fixed in history. The state
 * moves only once it is on the record, so no decision can be recorded before the request it answers.
 */
async function askForApproval(run: OperationRun, round: number): Promise<number> {
  const decision = run.envelope!.policy;
  const note = round > 1 ? 'the approval went stale' : undefined;
  const scheduled = run.patches.has(DEADLINE_SCHEDULED_PATCH);
  if (!scheduled) run.moveTo('awaiting_approval', note);
  run.deadline = new Date(Date.now() + decision.approvalWindowMs).toISOString();
  const request = {
    round,
    payload: {
      digest: run.digest,
      required: decision.approvalsRequired,
      approverGroups: decision.approverGroups,
      signed: decision.signedApprovals,
      deadline: run.deadline,
    },
  };
  if (!scheduled) {
    await run.record(EventType.approvalRequested, 'awaiting_approval', request);
    return decision.approvalWindowMs;
  }
  await run.recordScheduled(EventType.approvalRequested, 'awaiting_approval', request);
  run.moveTo('awaiting_approval', note);
  // The window is the recorded deadline's, however long the append took.
  return Math.max(1, Date.parse(run.deadline) - Date.now());
}

/** One round: ask, wait for a quorum, a rejection or the deadline; the closed operation unless approved. */
async function approvalRound(run: OperationRun, round: number): Promise<Closed | null> {
  const decision = run.envelope!.policy;
  const waitMs = await askForApproval(run, round);
  const decidedOrRejected = () => run.rejected !== null || quorumReached(decision, run.granted);
  const decided = await run.waitFor(decidedOrRejected, waitMs);
  const rejection = run.rejected;
  if (rejection) {
    run.moveTo('rejected');
    await run.record(EventType.operationRejected, 'rejected', { payload: { ...rejection } });
    return { closed: await run.close('rejected') };
  }
  if (!decided) {
    run.moveTo('expired');
    const payload = { deadline: run.deadline, granted: run.granted.length, required: decision.approvalsRequired };
    await run.record(EventType.operationExpired, 'expired', { payload });
    return { closed: await run.close('expired') };
  }
  run.moveTo('approved');
  await run.record(EventType.operationApproved, 'approved', {
    round,
    payload: { digest: run.digest, approvers: run.granted.map((g) => g.approver) },
  });
  return null;
}
