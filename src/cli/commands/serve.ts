import type { Command } from 'commander';
import { redactUrl } from '../../db/pool.js';
import type { ServeConfig } from '../../serve/config.js';
import {
  parsePort,
  parsePublicUrl,
  parseTtl,
  requireLinkSecret,
  serveBaseUrl,
  serveConfigFromEnv,
} from '../../serve/config.js';
import { findEvidence } from '../../serve/evidence.js';
import { issueLinks } from '../../serve/issue-links.js';
import { assertMigrated } from '../../serve/ledger-ready.js';
import { SERVE_CONNECTIONS, warmConnections } from '../../serve/warm-connections.js';
import { SLACK_INTERACTIONS_PATH, SLACK_PATH } from '../../serve/routes.js';
import { slackApprovalsFromEnv, slackViewsFromEnv } from '../shared/slack-approvals.js';
import { startServe } from '../../serve/server.js';
import { chainRouterFromEnv } from '../../ledger/chain-router.js';
import { ssoConfigFromEnv } from '../../serve/sso-config.js';
import { openSso } from '../shared/serve-sso.js';
import type { GlobalOptions } from '../shared/context.js';
import { databaseUrlFrom, withPool } from '../shared/context.js';
import { CliExit, EXIT } from '../shared/exit.js';

interface ServeFlags {
  port?: string;
  host?: string;
  publicUrl?: string;
}

interface LinkFlags {
  requester: string;
  ttl?: string;
  baseUrl?: string;
  json?: boolean;
}

export function registerServe(program: Command): void {
  registerServeCommand(program);
  registerLink(program);
}

function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description(
      'serve what-happened over HTTP until interrupted: a Slack /what-happened endpoint, a timeline page and CSV/JSON downloads behind signed, expiring links (WRIT_LINK_SECRET); every use of a link is recorded in the ledger',
    )
    .option('--port <port>', 'port to listen on, 0 for any free one (default: $WRIT_SERVE_PORT, else 8787)')
    .option('--host <address>', 'address to listen on (default: $WRIT_SERVE_HOST, else 127.0.0.1)')
    .option(
      '--public-url <url>',
      'the base of every link, where people reach this server (default: $WRIT_PUBLIC_URL, else the listening address)',
    )
    .action(async (flags: ServeFlags, command: Command) => {
      const env = serveConfigFromEnv();
      const linkSecret = requireLinkSecret(env.linkSecret);
      const port = flags.port !== undefined ? parsePort(flags.port, '--port') : env.port;
      const host = flags.host ?? env.host;
      const publicUrl = flags.publicUrl !== undefined ? parsePublicUrl(flags.publicUrl, '--public-url') : env.publicUrl;
      const slackApprovals = await slackApprovalsFromEnv();
      const slackViews = slackViewsFromEnv();
      const ssoEnv = ssoConfigFromEnv();
      const chains = chainRouterFromEnv();
      // A service's pool: a query that gets no answer fails the request after WRIT_DB_QUERY_TIMEOUT_MS,
      // and a session whose serve vanished mid-statement is ended by the server, instead of holding
      // the chain's lock (serve appends access records) against every worker for hours.
      const poolOptions = {
        max: SERVE_CONNECTIONS,
        applicationName: 'writ-serve',
        keepConnections: true,
        service: true,
      };
      await withPool(
        command.optsWithGlobals<GlobalOptions>(),
        async (pool) => {
          await assertMigrated(pool);
          await warmConnections(pool);
          const sso = ssoEnv ? await openSso(ssoEnv) : undefined;
          const running = await startServe({
            ...(slackApprovals ? { slackApprovals: slackApprovals.options } : {}),
            ...(slackViews ? { slackViews } : {}),
            pool,
            host,
            port,
            linkSecret,
            ...(publicUrl ? { publicUrl } : {}),
            ...(env.slackSigningSecret ? { slackSigningSecret: env.slackSigningSecret } : {}),
            ...(env.slackTeamIds ? { slackTeamIds: env.slackTeamIds } : {}),
            ...(sso ? { sso: sso.options } : {}),
            chains,
          }).catch(async (error: NodeJS.ErrnoException) => {
            await sso?.close();
            throw listenProblem(error, host, port);
          });
          printServing(running.url, publicUrl, env, !!slackViews);
          printApprovals(publicUrl ?? running.url, ssoEnv?.issuer, slackApprovals?.options.channel);
          await new Promise<void>((resolve) => {
            process.once('SIGINT', resolve);
            process.once('SIGTERM', resolve);
          });
          await running.close();
          await sso?.close();
        },
        poolOptions,
      ).finally(() => slackApprovals?.close());
    });
}

/** Why serve could not listen, in the operator's words; any other error as it is. */
function listenProblem(error: NodeJS.ErrnoException, host: string, port: number): Error {
  if (error.code === 'EADDRINUSE')
    return new CliExit(
      EXIT.usage,
      `${host}:${port} is already in use: choose another port with --port or WRIT_SERVE_PORT`,
    );
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND')
    return new CliExit(EXIT.usage, `cannot listen on ${host}: no such local address (--host or WRIT_SERVE_HOST)`);
  return error;
}

/** Where people approve: the pages behind single sign-on, and the Slack channel. */
function printApprovals(base: string, issuer: string | undefined, slackChannel: string | undefined): void {
  if (slackChannel)
    console.log(
      `  Slack approvals: posting to ${slackChannel}; point the app's interactivity request URL at ${base}${SLACK_INTERACTIONS_PATH}`,
    );
  console.log(
    issuer
      ? `  approvals: ${base}/approvals, signing in at ${issuer} (register ${base}/callback as the redirect URI)`
      : '  approvals: off (set WRIT_OIDC_ISSUER, WRIT_OIDC_CLIENT_ID, WRIT_CHANNEL_KEY and WRIT_APPROVERS_FILE)',
  );
}

function printServing(url: string, publicUrl: string | undefined, env: ServeConfig, modal: boolean): void {
  const base = publicUrl ?? url;
  console.log(`writ serve on ${url}${publicUrl ? ` (links point at ${publicUrl})` : ''}`);
  console.log(`  timeline and downloads: behind signed links only; make one with \`writ link <id> --requester <who>\``);
  console.log(
    !env.slackSigningSecret
      ? "  Slack: off (set WRIT_SLACK_SIGNING_SECRET to the Slack app's signing secret to turn it on)"
      : !env.slackTeamIds?.length
        ? '  Slack: off (set WRIT_SLACK_TEAM_IDS to the team ids of the workspaces to answer; any workspace that installs the app can sign requests)'
        : `  Slack: point the /what-happened slash command at ${base}${SLACK_PATH} (answering workspace(s) ${env.slackTeamIds.join(', ')})`,
  );
  if (modal && env.slackSigningSecret && env.slackTeamIds?.length)
    console.log(
      `  Slack: answers carry a Full timeline button; point the app's interactivity request URL at ${base}${SLACK_INTERACTIONS_PATH}`,
    );
}

function registerLink(program: Command): void {
  program
    .command('link')
    .argument('<id>', 'an operationId, or a correlation id (W3C trace-id)')
    .description(
      'print signed, expiring links to the timeline page and the CSV and JSON downloads of an id, for one person (needs WRIT_LINK_SECRET, the same as `writ serve`)',
    )
    .requiredOption('--requester <who>', 'who the links are for; each use is recorded in the ledger under this name')
    .option('--ttl <duration>', 'how long the links stay valid: 90s, 15m, 24h, 7d (at most 90d)', '24h')
    .option(
      '--base-url <url>',
      'where `writ serve` is reached (default: $WRIT_PUBLIC_URL, else http://$WRIT_SERVE_HOST:$WRIT_SERVE_PORT)',
    )
    .option('--json', 'print the links as JSON')
    .action(async (id: string, flags: LinkFlags, command: Command) => {
      const env = serveConfigFromEnv();
      const secret = requireLinkSecret(env.linkSecret);
      const ttlSeconds = parseTtl(flags.ttl ?? '24h');
      const baseUrl = flags.baseUrl !== undefined ? parsePublicUrl(flags.baseUrl, '--base-url') : serveBaseUrl(env);
      const links = issueLinks({ baseUrl, secret, id, requester: flags.requester, ttlSeconds, nowMs: Date.now() });
      const globals = command.optsWithGlobals<GlobalOptions>();
      // A link to nothing would only be found out by whoever clicks it.
      await withPool(globals, async (pool) => {
        if (!(await findEvidence(pool, id, { timeline: false }))) {
          throw new CliExit(
            EXIT.usage,
            `no operation or correlation id ${id} in the ledger at ${redactUrl(databaseUrlFrom(globals))}`,
          );
        }
      });
      const expiresAt = new Date(links.expires * 1000).toISOString();
      if (flags.json) {
        console.log(
          JSON.stringify(
            {
              id,
              requester: flags.requester.trim(),
              expiresAt,
              timeline: links.timeline,
              csv: links.csv,
              json: links.json,
            },
            null,
            2,
          ),
        );
        return;
      }
      console.log(`timeline: ${links.timeline}`);
      console.log(`csv:      ${links.csv}`);
      console.log(`json:     ${links.json}`);
      console.log(`for ${flags.requester.trim()}, valid until ${expiresAt}; each use is recorded in the ledger`);
    });
}
