import { canonicalText } from '../../verify/canonical.js';
import type { PlannedChange, StepSnapshot } from '../../model/operation.js';
import type { SubmittedRequest } from '../../model/request.js';
import type { WritDeps } from './deps.js';
import { sha256Hex } from '../../verify/hash.js';

/** Binds an approval to exactly what is approved: the parameters, the targets' versions, the policy. */
export function approvalDigest(
  operationId: string,
  paramsHash: string,
  versions: string[],
  policyRevision: string,
): string {
  return sha256Hex(canonicalText({ v: 1, operationId, paramsHash, targetVersions: versions, policyRevision }));
}

/**
 * What each step would change, read when the operation will wait for approval: an approver signs
 * a digest, and this is what it stands for (the digest binds the versions these were read at).
 */
export async function previews(
  deps: WritDeps,
  request: SubmittedRequest,
  snapshots: StepSnapshot[],
): Promise<Array<PlannedChange | null>> {
  const planned: Array<PlannedChange | null> = [];
  for (const [index, step] of request.steps.entries()) {
    try {
      const params = deps.registry.parseParams(step.connector, step.action, step.params);
      const preview = await deps.registry
        .action(step.connector, step.action)
        .preview({ target: step.target, params }, snapshots[index]!);
      planned.push({ before: preview.before, after: preview.after, summary: preview.summary });
    } catch {
      planned.push(null);
    }
  }
  return planned;
}
