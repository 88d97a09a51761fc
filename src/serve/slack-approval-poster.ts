import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { WebClient } from '@slack/web-api';
import type { DecisionClient } from './slack-approvals.js';
import { WritError } from '../model/errors.js';
import type { OperationState } from '../model/operation.js';
import { approvalMessage } from './slack-approval-message.js';
import type { SlackApprovalMessage } from './slack-approval-message.js';

/** The metadata event type Writ's approval messages carry, so a restarted server finds what it posted. */
export const APPROVAL_EVENT = 'writ_approval';
/** How far back a restarted server looks for its own messages: the longest approval window policy allows. */
const REDISCOVER_SECONDS = 30 * 24 * 3600;
const REDISCOVER_PAGES = 20;

interface Posted {
  ts: string;
  /** A digest of what the message shows: it is updated only when that changes. */
  shown: string;
}

export interface PosterOptions {
  slack: WebClient;
  channel: string;
  temporal: Client;
  writ: DecisionClient;
  taskQueue: string;
  approvalPageUrl: (operationId: string) => string;
  log: (message: string) => void;
}

const shownDigest = (message: SlackApprovalMessage) =>
  createHash('sha256').update(JSON.stringify(message.blocks)).digest('hex');

/**
 * Posts each operation that waits for approval to the channel, once, and updates its message as the
 * operation moves on. It reads Temporal's visibility (WritState) and the operations' state query,
 * so the workflow knows nothing of Slack. What it posted is kept in Slack itself, as message
 * metadata, and read back from the channel's history after a restart.
 */
export class SlackApprovalPoster {
  private readonly posted = new Map<string, Posted>();
  /** One refresh of an operation at a time: a click and the watcher racing must not post it twice. */
  private readonly busy = new Map<string, Promise<void>>();
  private botId: string | undefined;

  constructor(private readonly options: PosterOptions) {}

  /** Learns who the bot is and which open operations it already posted. */
  async start(): Promise<void> {
    const me = await this.options.slack.auth.test().catch((error: Error & { data?: { error?: string } }) => {
      throw new WritError(
        'CONFIG',
        `Slack did not accept the bot token (${error.data?.error ?? error.message})`,
        "Set WRIT_SLACK_BOT_TOKEN to the app's Bot User OAuth Token (xoxb-…, OAuth & Permissions), with the chat:write and channels:history scopes.",
      );
    });
    this.botId = typeof me.bot_id === 'string' ? me.bot_id : undefined;
    await this.rediscover().catch((error: Error & { data?: { error?: string } }) => {
      throw new WritError(
        'CONFIG',
        `Slack did not let Writ read channel ${this.options.channel}'s history (${error.data?.error ?? error.message}), where it finds what it posted before`,
        'Check WRIT_SLACK_CHANNEL (a channel id such as C0123ABCD), invite the app to the channel, and give it the channels:history scope (groups:history for a private channel).',
      );
    });
  }

  /** One pass: post what newly waits, update what changed. Never throws: Slack or Temporal may be away. */
  async tick(): Promise<void> {
    let waiting: string[];
    try {
      waiting = await this.awaiting();
    } catch (error) {
      return this.options.log(`writ serve: Slack approvals could not list what waits: ${(error as Error).message}`);
    }
    const due = [...waiting.filter((operationId) => !this.posted.has(operationId)), ...this.posted.keys()];
    // One message Slack refuses must not hold up every other.
    for (const operationId of new Set(due))
      await this.refresh(operationId).catch((error) => this.failed(operationId, error));
  }

  private failed(operationId: string, error: Error & { data?: { error?: string } }): void {
    // Someone deleted the message: it is posted afresh if the operation still waits.
    if (error.data?.error === 'message_not_found') this.posted.delete(operationId);
    this.options.log(`writ serve: Slack message for ${operationId}: ${error.data?.error ?? error.message}`);
  }

  /** Posts or updates one operation's message to match its state now. */
  refresh(operationId: string): Promise<void> {
    const next = (this.busy.get(operationId) ?? Promise.resolve()).then(() => this.refreshNow(operationId));
    const settled = next.catch(() => undefined);
    this.busy.set(operationId, settled);
    void settled.then(() => {
      if (this.busy.get(operationId) === settled) this.busy.delete(operationId);
    });
    return next;
  }

  private async refreshNow(operationId: string): Promise<void> {
    let state: OperationState;
    try {
      state = await this.options.writ.state(operationId);
    } catch (error) {
      this.options.log(`writ serve: could not read operation ${operationId} for Slack: ${(error as Error).message}`);
      return;
    }
    const message = approvalMessage(state, this.options.approvalPageUrl(operationId));
    const shown = shownDigest(message);
    const held = this.posted.get(operationId);
    if (!held) {
      if (state.state !== 'awaiting_approval') return;
      const ts = await this.post(operationId, message, shown);
      this.posted.set(operationId, { ts, shown });
      return;
    }
    if (held.shown !== shown) {
      await this.options.slack.chat.update({
        channel: this.options.channel,
        ts: held.ts,
        text: message.text,
        blocks: message.blocks,
        metadata: this.metadata(operationId, shown, message.final),
      });
      held.shown = shown;
    }
    if (message.final) this.posted.delete(operationId);
  }

  private async post(operationId: string, message: SlackApprovalMessage, shown: string): Promise<string> {
    const answer = await this.options.slack.chat.postMessage({
      channel: this.options.channel,
      text: message.text,
      blocks: message.blocks,
      unfurl_links: false,
      unfurl_media: false,
      metadata: this.metadata(operationId, shown, message.final),
    });
    if (!answer.ts) throw new Error('Slack posted the approval message but returned no ts');
    return answer.ts;
  }

  private metadata(operationId: string, shown: string, final: boolean) {
    return { event_type: APPROVAL_EVENT, event_payload: { operation_id: operationId, shown, final } };
  }

  private async awaiting(): Promise<string[]> {
    // The task queue keeps this server to its own Writ's operations when a cluster serves several.
    const query = `WorkflowType = 'governedWrite' AND TaskQueue = '${this.options.taskQueue.replace(/'/g, "\\'")}' AND WritState = 'awaiting_approval'`;
    const ids: string[] = [];
    for await (const execution of this.options.temporal.workflow.list({ query })) ids.push(execution.workflowId);
    return ids;
  }

  /** Finds this bot's approval messages still open (not final) in the channel's recent history. */
  private async rediscover(): Promise<void> {
    const oldest = String(Math.floor(Date.now() / 1000) - REDISCOVER_SECONDS);
    let cursor: string | undefined;
    for (let page = 0; page < REDISCOVER_PAGES; page++) {
      const history = await this.options.slack.conversations.history({
        channel: this.options.channel,
        oldest,
        limit: 200,
        include_all_metadata: true,
        ...(cursor ? { cursor } : {}),
      });
      for (const message of history.messages ?? []) this.adopt(message);
      cursor = history.response_metadata?.next_cursor || undefined;
      if (!history.has_more || !cursor) return;
    }
  }

  private adopt(message: {
    ts?: string;
    bot_id?: string;
    metadata?: { event_type?: string; event_payload?: Record<string, unknown> };
  }): void {
    // Another app may post look-alike metadata; only this bot's own messages count as posted.
    if (!message.ts || !this.botId || message.bot_id !== this.botId) return;
    const payload = message.metadata?.event_type === APPROVAL_EVENT ? message.metadata.event_payload : undefined;
    const operationId = payload?.operation_id;
    if (!payload || typeof operationId !== 'string' || payload.final === true || this.posted.has(operationId)) return;
    this.posted.set(operationId, { ts: message.ts, shown: typeof payload.shown === 'string' ? payload.shown : '' });
  }
}
