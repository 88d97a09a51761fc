import { Client, Connection } from '@temporalio/client';
import { WritClient } from '../../client.js';
import { configFromEnv } from '../../config/writ-config.js';
import { directorySource } from '../../governance/directory.js';
import { WritError } from '../../model/errors.js';
import { loadChannelSigner } from '../../serve/slack-assertion.js';
import type { SlackApprovalsOptions } from '../../serve/slack-approvals.js';
import type { SlackViewsOptions } from '../../serve/slack-views.js';

/** The name the directory pins this server's channel key under, unless WRIT_CHANNEL_NAME says otherwise. */
export const DEFAULT_CHANNEL_NAME = 'writ-serve';

/** What is still missing for Slack approvals, or nothing: they are off until the bot token is set. */
function missing(env: NodeJS.ProcessEnv): string[] {
  return [
    'WRIT_SLACK_CHANNEL',
    'WRIT_CHANNEL_KEY',
    'WRIT_APPROVERS_FILE',
    'WRIT_SLACK_SIGNING_SECRET',
    'WRIT_SLACK_TEAM_IDS',
  ].filter((name) => !env[name]?.trim());
}

export interface ConnectedSlackApprovals {
  options: SlackApprovalsOptions;
  close(): Promise<void>;
}

/**
 * Slack approvals from the environment: WRIT_SLACK_BOT_TOKEN turns them on and then needs
 * WRIT_SLACK_CHANNEL (channel id), WRIT_CHANNEL_KEY (Ed25519 private key, PEM), WRIT_APPROVERS_FILE,
 * and the slash command's WRIT_SLACK_SIGNING_SECRET and WRIT_SLACK_TEAM_IDS; WRIT_CHANNEL_NAME and
 * WRIT_SLACK_API_URL are optional; Temporal is found as every command finds it (TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, WRIT_TASK_QUEUE).
 */
export async function slackApprovalsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): Promise<ConnectedSlackApprovals | undefined> {
  const botToken = env.WRIT_SLACK_BOT_TOKEN?.trim();
  if (!botToken) return undefined;
  const lacking = missing(env);
  if (lacking.length)
    throw new WritError(
      'CONFIG',
      `WRIT_SLACK_BOT_TOKEN is set, so Slack approvals are on, and they also need ${lacking.join(', ')}`,
      'Set them, or unset WRIT_SLACK_BOT_TOKEN to serve without Slack approvals.',
    );
  const signer = loadChannelSigner(env.WRIT_CHANNEL_KEY!, env.WRIT_CHANNEL_NAME?.trim() || DEFAULT_CHANNEL_NAME);
  const { temporalAddress, namespace, taskQueue } = configFromEnv(env);
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: temporalAddress, connectTimeout: '5s' });
  } catch (error) {
    throw new WritError(
      'TEMPORAL_UNREACHABLE',
      `Slack approvals need Temporal, and nothing answers at ${temporalAddress}: ${(error as Error).message}`,
      'Point writ serve at it with TEMPORAL_ADDRESS=host:7233, or unset WRIT_SLACK_BOT_TOKEN.',
      { cause: error },
    );
  }
  const temporal = new Client({ connection, namespace });
  return {
    options: {
      botToken,
      channel: env.WRIT_SLACK_CHANNEL!.trim(),
      ...(env.WRIT_SLACK_API_URL?.trim() ? { slackApiUrl: env.WRIT_SLACK_API_URL.trim() } : {}),
      temporal,
      taskQueue,
      writ: new WritClient(temporal, { taskQueue }),
      directory: directorySource(env.WRIT_APPROVERS_FILE!),
      signer,
    },
    close: () => connection.close(),
  };
}

/**
 * The Full timeline modal of /what-happened answers: on whenever WRIT_SLACK_BOT_TOKEN is set
 * (views.open needs no scope beyond a bot token), at WRIT_SLACK_API_URL when that is set.
 */
export function slackViewsFromEnv(env: NodeJS.ProcessEnv = process.env): SlackViewsOptions | undefined {
  const botToken = env.WRIT_SLACK_BOT_TOKEN?.trim();
  if (!botToken) return undefined;
  const slackApiUrl = env.WRIT_SLACK_API_URL?.trim();
  return { botToken, ...(slackApiUrl ? { slackApiUrl } : {}) };
}
