import type pg from 'pg';
import type { LedgerAppender } from '../ledger/appender.js';
import type { EvidenceLookup } from './evidence.js';
import type { SlackApprovals } from './slack-approvals.js';
import type { SeenSlackRequests } from './slack-replays.js';
import type { SlackViews } from './slack-views.js';
import type { SsoContext } from './sso.js';

/** What every handler of one running server shares. */
export interface ServeContext {
  pool: pg.Pool;
  appender: LedgerAppender;
  linkSecret: string;
  slackSigningSecret?: string;
  /** The workspaces answered; empty: the Slack endpoint is off. */
  slackTeamIds: ReadonlySet<string>;
  now: () => number;
  /** Where links point: the public URL, else this server's own address. */
  baseUrl: () => string;
  lookup: EvidenceLookup;
  /** How long a slash command may wait for its answer before Slack is sent an acknowledgement. */
  slackBudgetMs: number;
  /** Work that outlives its request (a Slack answer posted later): close() waits for it. */
  background: (task: Promise<unknown>) => void;
  log: (message: string) => void;
  /** The Slack requests already handled (by their signature): a replay of any of them is refused. */
  slackSeen: SeenSlackRequests;
  /** Approval messages and their buttons; absent: a click on them answers 503. */
  slackApprovals?: SlackApprovals;
  /** The Full timeline modal; absent: /what-happened answers carry no button, and a click answers 503. */
  slackViews?: SlackViews;
  /** Single sign-on approvals; absent: the approval pages answer 503. */
  sso?: SsoContext;
}
