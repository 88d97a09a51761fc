import type { Command } from 'commander';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { WritClient } from '../../client.js';
import type { OperationState } from '../../model/operation.js';
import type { DecisionResponse } from '../../workflows/governed-write/messages.js';
import { CliExit, EXIT } from '../shared/exit.js';
import type { TemporalOptions } from '../shared/temporal.js';
import { withWritClient } from '../shared/temporal.js';
import { describeState } from '../format/state.js';
import { signShownPlan } from './sign-plan.js';
import { registerSubmit } from './submit.js';

/** Turns "no such operation" into a clear, exit-2 message. */
async function onOperation<T>(operationId: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError || /not found/i.test((error as Error).message)) {
      throw new CliExit(
        EXIT.usage,
        `no operation ${operationId} on this Temporal namespace; check the id, TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE`,
      );
    }
    throw error;
  }
}

function printDecision(kind: string, operationId: string, answer: DecisionResponse): void {
  if (answer.accepted) {
    console.log(
      `${kind} accepted for ${operationId}: now ${answer.state}${answer.stillNeeded ? `, ${answer.stillNeeded} more approval(s) needed` : ''}`,
    );
    return;
  }
  throw new CliExit(
    EXIT.bad,
    `${kind} refused for ${operationId}: ${answer.refusal} (the refusal is recorded in the ledger)`,
  );
}

/** A decision signed with the decider's key: the signature is also the decision's proof of identity. */
function keyProof(signed: { digest: string; signature: string }) {
  return { ...signed, proof: { kind: 'key' as const, signature: signed.signature } };
}

type OperationsCommand = (writ: WritClient) => Promise<void>;

const globals = (command: Command) => command.optsWithGlobals<TemporalOptions>();

/** Runs `work` on one operation, with "no such operation" turned into a clear, exit-2 message. */
function onOperationOf(command: Command, operationId: string, work: OperationsCommand): Promise<void> {
  return withWritClient(globals(command), (writ) => onOperation(operationId, () => work(writ)));
}

export function registerOperations(program: Command): void {
  registerSubmit(program);
  registerApprove(program);
  registerReject(program);
  registerResolve(program);
  registerStatus(program);
}

function registerApprove(program: Command): void {
  program
    .command('approve')
    .argument('<operationId>')
    .description('approve an operation waiting for approval (refusals are answered and recorded)')
    .requiredOption('--as <approver>', 'who approves (must be in the approver directory)')
    .requiredOption('--reason <text>', 'why')
    .option(
      '--digest <hex>',
      'the approval digest you reviewed (default: the one the operation waits for now); with --key, it must be the one shown',
    )
    .option(
      '--key <file>',
      'sign with this Ed25519 private key (PEM): proves who approves (policy asks for a proof by default) and signs the digest; the directory lists its public key for --as; prints the plan it signs first',
    )
    .action(
      async (
        operationId: string,
        options: { as: string; reason: string; digest?: string; key?: string },
        command: Command,
      ) => {
        await onOperationOf(command, operationId, (writ) => approve(writ, operationId, options));
      },
    );
}

/** Without a key the digest defaults to the one the operation waits for; with one, to the digest shown and signed. */
async function approve(
  writ: WritClient,
  operationId: string,
  options: { as: string; reason: string; digest?: string; key?: string },
): Promise<void> {
  if (!options.key) {
    const digest = options.digest ?? (await writ.state(operationId)).approvals.digest ?? '';
    printDecision(
      'approval',
      operationId,
      await writ.approve(operationId, { approver: options.as, reason: options.reason, digest }),
    );
    return;
  }
  const { digest, signature } = await signShownPlan(
    await writ.state(operationId),
    'approve',
    options.key,
    options.digest,
  );
  printDecision(
    'approval',
    operationId,
    await writ.approve(operationId, {
      approver: options.as,
      reason: options.reason,
      digest,
      signature,
      proof: { kind: 'key', signature },
    }),
  );
}

function registerReject(program: Command): void {
  program
    .command('reject')
    .argument('<operationId>')
    .description(
      'reject an operation waiting for approval; one rejection rejects (the rejecter needs the standing of an approver)',
    )
    .requiredOption('--as <approver>', 'who rejects (must be in the approver directory)')
    .requiredOption('--reason <text>', 'why')
    .option('--digest <hex>', 'with --key: the approval digest you reviewed; it must be the one shown')
    .option(
      '--key <file>',
      'sign the rejection with this Ed25519 private key (PEM): proves who rejects (policy asks for a proof by default)',
    )
    .action(
      async (
        operationId: string,
        options: { as: string; reason: string; digest?: string; key?: string },
        command: Command,
      ) => {
        await onOperationOf(command, operationId, async (writ) => {
          const signed = options.key
            ? keyProof(await signShownPlan(await writ.state(operationId), 'reject', options.key, options.digest))
            : {};
          printDecision(
            'rejection',
            operationId,
            await writ.reject(operationId, { approver: options.as, reason: options.reason, ...signed }),
          );
        });
      },
    );
}

function registerResolve(program: Command): void {
  program
    .command('resolve')
    .argument('<operationId>')
    .description(
      'close an operation that needs intervention, saying what was done by hand (the resolver must be in the approver directory, in a resolver group)',
    )
    .requiredOption('--as <who>', 'who resolved it')
    .requiredOption('--action <text>', 'what was done')
    .requiredOption('--reason <text>', 'why')
    .option(
      '--key <file>',
      'sign the resolution with this Ed25519 private key (PEM): proves who resolves (policy asks for a proof by default)',
    )
    .action(
      async (
        operationId: string,
        options: { as: string; action: string; reason: string; key?: string },
        command: Command,
      ) => {
        await onOperationOf(command, operationId, async (writ) => {
          const signed = options.key
            ? keyProof(
                await signShownPlan(await writ.state(operationId), 'resolve', options.key, undefined, {
                  action: options.action,
                  reason: options.reason,
                }),
              )
            : {};
          printDecision(
            'resolution',
            operationId,
            await writ.resolve(operationId, {
              by: options.as,
              action: options.action,
              reason: options.reason,
              ...signed,
            }),
          );
        });
      },
    );
}

function registerStatus(program: Command): void {
  program
    .command('status')
    .argument('<operationId>')
    .description('where an operation stands: state, approvals, steps, transitions')
    .option('--json', 'print the full state as JSON')
    .action(async (operationId: string, options: { json?: boolean }, command: Command) => {
      await onOperationOf(command, operationId, async (writ) => {
        const state: OperationState = await writ.state(operationId);
        console.log(options.json ? JSON.stringify(state, null, 2) : describeState(state));
      });
    });
}
