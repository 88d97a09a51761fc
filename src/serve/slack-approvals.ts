import type { Client } from '@temporalio/client';
import { WebClient } from '@slack/web-api';
import type { LoadedDirectory } from '../governance/directory.js';
import type { IdentityProof } from '../model/identity-proof.js';
import type { OperationState } from '../model/operation.js';
import type { ChannelSigner } from './slack-assertion.js';
import { SlackApprovalPoster } from './slack-approval-poster.js';

/** How often the channel is brought up to date with Temporal when nothing nudges it. */
export const DEFAULT_SLACK_POLL_MS = 2000;

/** A decision as Slack approvals send it. */
export interface SlackDecisionAttempt {
  approver: string;
  reason: string;
  digest: string;
  proof: IdentityProof;
}

/** What Slack approvals need of Writ's client: WritClient (src/client.ts) has it. */
export interface DecisionClient {
  state(operationId: string): Promise<OperationState>;
  approve(operationId: string, attempt: SlackDecisionAttempt): Promise<DecisionOutcome>;
  reject(operationId: string, attempt: SlackDecisionAttempt): Promise<DecisionOutcome>;
}

export interface DecisionOutcome {
  accepted: boolean;
  refusal?: string;
  stillNeeded: number;
}

/** What posting approvals to Slack, and deciding from its buttons, needs. */
export interface SlackApprovalsOptions {
  /** The bot token (xoxb-…) the messages are posted and updated with. */
  botToken: string;
  /** The channel id approvals are posted to. */
  channel: string;
  /** Slack's Web API base (default https://slack.com/api/); tests point it at a local server. */
  slackApiUrl?: string;
  /** A client of the Temporal namespace the worker runs in (for its visibility), and the worker's task queue. */
  temporal: Client;
  taskQueue: string;
  /** Reads operations' state and sends decisions (a WritClient on the same namespace and task queue). */
  writ: DecisionClient;
  /** The directory in force: who a Slack user is. */
  directory: () => Promise<LoadedDirectory>;
  /** The key this server signs its channel assertions with, pinned in the directory under `channels`. */
  signer: ChannelSigner;
  pollMs?: number;
}

/** The running half of Slack approvals that the interactivity endpoint uses. */
export interface SlackApprovals {
  poster: SlackApprovalPoster;
  writ: DecisionClient;
  directory: () => Promise<LoadedDirectory>;
  signer: ChannelSigner;
}

export interface RunningSlackApprovals {
  approvals: SlackApprovals;
  /** Starts keeping the channel up to date: once the server listens, so its links point somewhere. */
  run(): void;
  stop(): Promise<void>;
}

/**
 * Starts the watcher that keeps the channel in step with the operations waiting for approval. It
 * runs in `writ serve`, outside the workflow: posting is I/O the workflow need not wait for, and the
 * workflow's history stays free of Slack (no replay risk, no patch).
 */
export async function startSlackApprovals(
  options: SlackApprovalsOptions,
  context: { approvalPageUrl: (operationId: string) => string; log: (message: string) => void },
): Promise<RunningSlackApprovals> {
  const slack = new WebClient(options.botToken, {
    ...(options.slackApiUrl ? { slackApiUrl: options.slackApiUrl } : {}),
    // The watcher tries again on its next pass; a retry inside one call would only stall it.
    retryConfig: { retries: 0 },
  });
  const { writ } = options;
  const poster = new SlackApprovalPoster({
    slack,
    channel: options.channel,
    temporal: options.temporal,
    writ,
    taskQueue: options.taskQueue,
    ...context,
  });
  await poster.start();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  const loop = () => {
    if (stopped) return;
    current = poster.tick().finally(() => {
      if (!stopped) timer = setTimeout(loop, options.pollMs ?? DEFAULT_SLACK_POLL_MS);
    });
  };
  return {
    run: loop,
    approvals: { poster, writ, directory: options.directory, signer: options.signer },
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
  };
}
