import type { ValidatedEnvelope } from '../../model/envelope.js';
import type { PlannedChange, StepSnapshot } from '../../model/operation.js';
import type { SubmittedRequest } from '../../model/request.js';
import { approvalDigest, previews } from './approval.js';
import type { WritDeps } from './deps.js';

/** The targets' versions now, and the approval digest they give; `planned` when an approval went stale. */
export interface RevalidateResult {
  versions: string[];
  policyRevision: string;
  approvalDigest: string;
  planned?: Array<PlannedChange | null>;
}

export async function revalidateOperation(
  deps: WritDeps,
  envelope: ValidatedEnvelope,
  request: SubmittedRequest,
  approvedDigest?: string,
): Promise<RevalidateResult> {
  const snapshots: StepSnapshot[] = [];
  for (const step of request.steps) {
    const params = deps.registry.parseParams(step.connector, step.action, step.params);
    snapshots.push(await deps.registry.action(step.connector, step.action).snapshot({ target: step.target, params }));
  }
  const versions = snapshots.map((snapshot) => snapshot.version);
  const loaded = await deps.policy();
  const { revision } = loaded;
  // A changed policy makes the approval digest name a new revision: on the record before it is used.
  await deps.governance?.policy(loaded);
  const digest = approvalDigest(envelope.operationId, envelope.paramsHash, versions, revision);
  // A stale approval is asked for again: the next approver is shown the plan as it is now.
  const planned =
    approvedDigest !== undefined && digest !== approvedDigest
      ? { planned: await previews(deps, request, snapshots) }
      : {};
  return { versions, policyRevision: revision, approvalDigest: digest, ...planned };
}
