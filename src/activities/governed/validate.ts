import type { RollbackContract } from '../../model/contract.js';
import { dryRunRefusal } from '../../model/contract.js';
import type { Envelope, ValidatedEnvelope } from '../../model/envelope.js';
import { hasCode } from '../../model/errors.js';
import { EventType } from '../../model/events.js';
import type { StepSnapshot, ValidateResult } from '../../model/operation.js';
import type { PolicyStep } from '../../model/policy.js';
import { decidePolicy } from '../../model/policy.js';
import type { SubmittedRequest } from '../../model/request.js';
import { approvalDigest, previews } from './approval.js';
import type { WritDeps } from './deps.js';
import { operationEvent, stamped } from './events.js';
import { faultPoint } from './faults.js';

/** What validation found out about the steps, in step order. */
interface StepFindings {
  problems: string[];
  snapshots: StepSnapshot[];
  contracts: RollbackContract[];
  steps: PolicyStep[];
}

export async function validateOperation(
  deps: WritDeps,
  envelope: Envelope,
  request: SubmittedRequest,
): Promise<ValidateResult> {
  const findings = await checkSteps(deps, envelope, request);
  const { problems, snapshots, contracts, steps } = findings;
  const { decision, requester, revision } = await decide(deps, envelope, request, findings);
  const validated: ValidatedEnvelope = { ...envelope, policy: decision };
  const digest = approvalDigest(
    envelope.operationId,
    envelope.paramsHash,
    snapshots.map((s) => s.version),
    revision,
  );
  const summary = contracts.map((c) => ({ method: c.method, canRollback: c.canRollback, windowMs: c.windowMs }));
  if (problems.length) {
    await deps.appender.append(
      stamped(
        operationEvent(envelope, EventType.operationValidationFailed, 'validation_failed', {
          payload: { problems },
        }),
      ),
    );
    return { ok: false, problems, envelope: validated, snapshots, approvalDigest: digest, contracts: summary };
  }
  await deps.appender.appendAll([
    stamped(
      operationEvent(envelope, EventType.policyDecided, null, {
        payload: {
          decision: { ...decision },
          requester,
          steps: steps.map((s, stepIndex) => ({ stepIndex, ...s })),
        },
      }),
    ),
    stamped(
      operationEvent(envelope, EventType.operationValidated, 'validated', {
        payload: { targetVersions: snapshots.map((s) => s.version), approvalDigest: digest, contracts: summary },
      }),
    ),
  ]);
  faultPoint('after-validate');
  const planned =
    decision.approvalsRequired > 0 && envelope.mode === 'execute'
      ? { planned: await previews(deps, request, snapshots) }
      : {};
  return { ok: true, problems, envelope: validated, snapshots, approvalDigest: digest, contracts: summary, ...planned };
}

/**
 * Asks each step's connector to validate it and reads its target. Bad input to a connector is a
 * problem of this request; any other failure (the outside system, a bug) is thrown for a retry.
 */
async function checkSteps(deps: WritDeps, envelope: Envelope, request: SubmittedRequest): Promise<StepFindings> {
  const findings: StepFindings = { problems: [], snapshots: [], contracts: [], steps: [] };
  const { problems, snapshots, contracts, steps } = findings;
  for (const [index, step] of request.steps.entries()) {
    const where = `steps.${index} (${step.connector}.${step.action} ${step.target})`;
    try {
      const action = deps.registry.action(step.connector, step.action);
      contracts.push(action.contract);
      const params = deps.registry.parseParams(step.connector, step.action, step.params);
      if (request.mode === 'dry-run') {
        const refusal = dryRunRefusal(action.contract);
        if (refusal) problems.push(`${where}: dry run refused: ${refusal}`);
      }
      const call = { target: step.target, params };
      for (const problem of await action.validate(call)) problems.push(`${where}: ${problem}`);
      const before = await action.snapshot(call);
      snapshots.push(before);
      // Policy sees the target as the connector resolves it and the action by its effect.
      steps.push(await deps.registry.policyStep(step.connector, step.action, call, before));
    } catch (error) {
      if (!hasCode(error, 'CONNECTOR_INPUT')) throw error;
      problems.push(`${where}: ${error.message}`);
      if (snapshots.length === index) snapshots.push({ version: 'unknown', state: null });
      steps.push({
        connector: step.connector,
        action: step.action,
        effectiveAction: step.action,
        effect: 'unknown',
        target: step.target,
        identity: envelope.targets[index]?.identity ?? `${step.connector}:${step.target}`,
      });
    }
  }
  return findings;
}

/** Decides policy for the steps as found, with the requester's groups as the directory has them. */
async function decide(deps: WritDeps, envelope: Envelope, request: SubmittedRequest, findings: StepFindings) {
  const loaded = await deps.policy();
  const { policy, revision } = loaded;
  const people = deps.directory ? await deps.directory() : undefined;
  const requester = {
    id: envelope.actor.id,
    groups: people?.groupsOf(envelope.actor.id) ?? [],
    claimedGroups: request.actor.groups,
  };
  const decision = {
    ...decidePolicy(
      policy,
      revision,
      { requesterGroups: requester.groups, labels: request.labels ?? {}, steps: findings.steps },
      findings.contracts,
    ),
    ...(people ? { directoryVersion: people.version } : {}),
  };
  // On the record before any decision names them (once per revision, whichever worker is first).
  await deps.governance?.policy(loaded);
  if (people) await deps.governance?.directory(people);
  return { decision, requester, revision };
}
