import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Pool } from 'pg';
import { GroupCommitAppender } from '../ledger/appender.js';
import type { ChainRouter } from '../ledger/chain-router.js';
import { chainRouter } from '../ledger/chain-router.js';
import { OperationChains, RoutedAppender } from '../ledger/operation-chains.js';
import type { LedgerAppender } from '../ledger/appender.js';
import {
  DEFAULT_SERVE_HOST,
  DEFAULT_SERVE_PORT,
  parsePublicUrl,
  parseSlackTeamIds,
  requireLinkSecret,
} from './config.js';
import type { ServeContext } from './context.js';
import type { EvidenceLookup } from './evidence.js';
import { findEvidence } from './evidence.js';
import { issueLinks } from './issue-links.js';
import { createHandler } from './routes.js';
import { SLACK_BUDGET_MS } from './slack-command.js';
import type { RunningSlackApprovals, SlackApprovalsOptions } from './slack-approvals.js';
import { startSlackApprovals } from './slack-approvals.js';
import { SeenSlackRequests } from './slack-replays.js';
import { SLACK_MAX_SKEW_SECONDS } from './slack-signature.js';
import type { SlackViewsOptions } from './slack-views.js';
import { slackViews } from './slack-views.js';
import type { SsoOptions } from './sso.js';
import { ssoContext } from './sso.js';

export interface ServeOptions {
  pool: Pool;
  host?: string;
  /** 0 = any free port. */
  port?: number;
  /** The base of every link (a proxy's address); this server's own address when absent. */
  publicUrl?: string;
  linkSecret: string;
  /** Without it the Slack endpoint answers 503. */
  slackSigningSecret?: string;
  /** The Slack workspaces answered (team ids); without any the Slack endpoint answers 503. */
  slackTeamIds?: readonly string[];
  /** Milliseconds since the epoch; tests move the clock to expire links and age Slack requests. */
  now?: () => number;
  /** Post operations waiting for approval to Slack with Approve and Reject buttons; absent: off. */
  slackApprovals?: SlackApprovalsOptions;
  /** A "Full timeline" button on /what-happened answers, opening the whole timeline in a Slack modal; absent: off. */
  slackViews?: SlackViewsOptions;
  /** Approval pages behind single sign-on; without it they answer 503. */
  sso?: SsoOptions;
  /** WRIT_CHAINS: access records to evidence of no operation go to its home chain (main when absent). */
  chains?: ChainRouter;
}

export interface RunningServe {
  url: string;
  close(): Promise<void>;
  /** Signed timeline, CSV and JSON links for `id`, made for `requester` (default lifetime 24 h). */
  link(id: string, requester: string, ttlSeconds?: number): { timeline: string; csv: string; json: string };
}

/** What tests (and only they, so far) change beyond ServeOptions. */
export interface ServeInternals {
  lookup?: EvidenceLookup;
  slackBudgetMs?: number;
  log?: (message: string) => void;
}

/**
 * `writ serve` over node:http: the Slack slash command, the timeline page, the downloads and,
 * with single sign-on configured, the approval inbox and pages.
 * The pool is the caller's and stays open after close().
 */
export function startServe(options: ServeOptions): Promise<RunningServe> {
  return startServeWith(options, {});
}

export async function startServeWith(options: ServeOptions, internals: ServeInternals): Promise<RunningServe> {
  const linkSecret = requireLinkSecret(options.linkSecret);
  const publicUrl = options.publicUrl ? parsePublicUrl(options.publicUrl, 'publicUrl') : undefined;
  const batches = new GroupCommitAppender(options.pool);
  // Access records name no operation, so this never reads writ.operations (which serve's login cannot).
  const appender = new RoutedAppender(
    batches,
    new OperationChains(options.pool, options.chains ?? chainRouter(undefined, '')),
  );
  const pending = new Set<Promise<unknown>>();
  let ownUrl = '';
  const ctx = serveContext(options, internals, { linkSecret, appender, pending, baseUrl: () => publicUrl ?? ownUrl });
  let slack: RunningSlackApprovals | undefined;
  if (options.slackApprovals) {
    slack = await startSlackApprovals(options.slackApprovals, {
      approvalPageUrl: (operationId) => `${ctx.baseUrl()}/approvals/${encodeURIComponent(operationId)}`,
      log: ctx.log,
    });
    ctx.slackApprovals = slack.approvals;
  }
  const server = createServer(createHandler(ctx));
  // Slowloris protection: a client gets this long to send its headers, and its whole request.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  ownUrl = await listen(server, options.port ?? DEFAULT_SERVE_PORT, options.host ?? DEFAULT_SERVE_HOST);
  slack?.run();

  let closing: Promise<void> | undefined;
  return {
    url: ownUrl,
    link: (id, requester, ttlSeconds) => {
      const { timeline, csv, json } = issueLinks({
        baseUrl: ctx.baseUrl(),
        secret: ctx.linkSecret,
        id,
        requester,
        ttlSeconds,
        nowMs: ctx.now(),
      });
      return { timeline, csv, json };
    },
    close: () => (closing ??= (slack?.stop() ?? Promise.resolve()).then(() => closeServe(server, pending, batches))),
  };
}

/** `pending` collects the answers still owed (to Slack), for close() to wait for. */
function serveContext(
  options: ServeOptions,
  internals: ServeInternals,
  made: { linkSecret: string; appender: LedgerAppender; pending: Set<Promise<unknown>>; baseUrl: () => string },
): ServeContext {
  const { pending } = made;
  const now = options.now ?? Date.now;
  return {
    pool: options.pool,
    appender: made.appender,
    linkSecret: made.linkSecret,
    ...(options.slackSigningSecret ? { slackSigningSecret: options.slackSigningSecret } : {}),
    slackTeamIds: new Set(options.slackTeamIds ? parseSlackTeamIds(options.slackTeamIds, 'slackTeamIds') : []),
    // A request is accepted 5 minutes either side of now, so it is remembered for 10.
    slackSeen: new SeenSlackRequests(2 * SLACK_MAX_SKEW_SECONDS * 1000),
    ...(options.slackViews ? { slackViews: slackViews(options.slackViews) } : {}),
    now,
    baseUrl: made.baseUrl,
    ...(options.sso ? { sso: ssoContext(options.sso, { now, baseUrl: made.baseUrl }) } : {}),
    lookup: internals.lookup ?? findEvidence,
    slackBudgetMs: internals.slackBudgetMs ?? SLACK_BUDGET_MS,
    background: (task) => {
      const tracked = task.catch(() => undefined).finally(() => pending.delete(tracked));
      pending.add(tracked);
    },
    log: internals.log ?? ((message) => console.error(message)),
  };
}

/** Listens and returns the server's own URL. */
async function listen(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
}

async function closeServe(
  server: Server,
  pending: Set<Promise<unknown>>,
  appender: GroupCommitAppender,
): Promise<void> {
  const stopped = new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  server.closeIdleConnections();
  // Answers owed to Slack are still sent; then nothing may be left half-appended.
  await Promise.all(pending);
  server.closeAllConnections();
  await stopped;
  await appender.drain();
}
