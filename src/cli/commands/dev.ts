import type { Command } from 'commander';
import { DEV_DATABASE, runDev } from '../../devstack/dev.js';
import type { GlobalOptions } from '../shared/context.js';
import { CliExit, EXIT } from '../shared/exit.js';
import type { TemporalOptions } from '../shared/temporal.js';
import { temporalConfig } from '../shared/temporal.js';

function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > 65535)
    throw new CliExit(EXIT.usage, `${value} is not a TCP port`);
  return parsed;
}

interface DevOptions {
  stateDir: string;
  port: number;
  uiPort: number;
  servePort: number;
  identityPort?: number;
  postgresPort: number;
  localUrl?: string;
  embedded: boolean;
  policy?: string;
  approvers?: string;
}

export function registerDev(program: Command): void {
  program
    .command('dev')
    .description(
      `run a local Temporal dev server with its Web UI, a Writ worker, writ serve and a ledger (${DEV_DATABASE} unless DATABASE_URL says otherwise) until Ctrl-C`,
    )
    .option('--state-dir <dir>', "where the dev server's history, the signing key, anchors and files are kept", '.writ')
    .option('--port <port>', "Temporal's gRPC port", port, 7233)
    .option('--ui-port <port>', "the Temporal Web UI's port", port, 8233)
    .option('--serve-port <port>', "writ serve's port", port, 7280)
    .option(
      '--identity-port <port>',
      "the development identity provider's port (default: the one after --serve-port)",
      port,
    )
    .option('--postgres-port <port>', "the embedded PostgreSQL's port, when no server answers", port, 5433)
    .option(
      '--local-url <url>',
      'the local PostgreSQL to use when DATABASE_URL is unset (default: $WRIT_DEMO_LOCAL_URL, else postgres://postgres@127.0.0.1:5432/postgres)',
    )
    .option('--no-embedded', 'fail instead of starting an embedded PostgreSQL when no server answers')
    .option(
      '--policy <file>',
      'policy file (default: $WRIT_POLICY_FILE; when unset, a policy with no rules in the state directory)',
    )
    .option('--approvers <file>', 'approver directory (default: $WRIT_APPROVERS_FILE)')
    .action(async (options: DevOptions, command: Command) => runDevCommand(options, command));
}

async function runDevCommand(options: DevOptions, command: Command): Promise<void> {
  const globals = command.optsWithGlobals<GlobalOptions & TemporalOptions>();
  if (globals.temporalAddress)
    throw new CliExit(
      EXIT.usage,
      '`writ dev` starts its own Temporal server: use --port instead of --temporal-address',
    );
  const databaseUrl = globals.databaseUrl ?? process.env.DATABASE_URL;
  const localUrl = options.localUrl ?? process.env.WRIT_DEMO_LOCAL_URL;
  const policyFile = options.policy ?? process.env.WRIT_POLICY_FILE;
  const approversFile = options.approvers ?? process.env.WRIT_APPROVERS_FILE;
  await runDev({
    ...(databaseUrl ? { databaseUrl } : {}),
    ...(localUrl ? { localUrl } : {}),
    embedded: options.embedded,
    stateDir: options.stateDir,
    port: options.port,
    uiPort: options.uiPort,
    servePort: options.servePort,
    ...(options.identityPort !== undefined ? { identityPort: options.identityPort } : {}),
    postgresPort: options.postgresPort,
    taskQueue: temporalConfig(globals).taskQueue,
    ...(policyFile ? { policyFile } : {}),
    ...(approversFile ? { approversFile } : {}),
    ...(process.env.WRIT_WORKFLOW_BUNDLE ? { workflowBundlePath: process.env.WRIT_WORKFLOW_BUNDLE } : {}),
  });
}
