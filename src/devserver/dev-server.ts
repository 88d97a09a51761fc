import { TypedSearchAttributes } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { WRIT_SEARCH_ATTRIBUTES } from '../model/search-attributes.js';
import { freePorts } from '../net/ports.js';
import { launchDevServer, type RunningDevServer } from './cli-process.js';
import { ensureTemporalCli } from './find-cli.js';

export type DevServer = RunningDevServer;

export interface DevServerOptions {
  /** File-backed persistence (survives a restart); in memory when absent. */
  dbFilename?: string;
  port?: number;
  ui?: boolean;
  /**
   * Where the Web UI listens when `ui` is set; use `freePort()` from src/net/ports.ts, as the SDK's
   * default (frontend port + 1000) may be taken.
   */
  uiPort?: number;
  /** How long the server may take to answer; a loaded machine restarting a file-backed one needs more than 5 s. */
  startupTimeoutMs?: number;
  log?: (line: string) => void;
}

const DEFAULT_STARTUP_TIMEOUT_MS = 60_000;

/**
 * A Temporal dev server with Writ's search attributes registered, started from the CLI we find or
 * build (or, with no Go toolchain, the SDK's own download, which waits at most 5 s for it). The
 * SQLite pragmas trade durability of the dev server's own state for speed: it is for development
 * and tests.
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const cli = await ensureTemporalCli(process.env, options.log);
  // The CLI picks its HTTP API and metrics ports at random when not told, and may pick the gRPC or
  // UI port chosen here before that one is bound: every port is chosen here, together.
  const named = [options.port, options.ui ? options.uiPort : undefined].filter((p): p is number => p !== undefined);
  const [httpPort, metricsPort, grpcPort] = await freePorts(3, named);
  const port = options.port ?? grpcPort!;
  const searchAttributes = Object.values(WRIT_SEARCH_ATTRIBUTES);
  const extraArgs = [
    '--sqlite-pragma',
    'journal_mode=WAL',
    '--sqlite-pragma',
    'synchronous=OFF',
    '--http-port',
    String(httpPort),
    '--metrics-port',
    String(metricsPort),
  ];
  if (!cli) return sdkDownloadedServer(port, options, searchAttributes, extraArgs);

  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--namespace',
    'default',
    '--log-format',
    'pretty',
    '--log-level',
    'warn',
    // As the SDK's launcher sets them: Writ's approvals are workflow updates.
    '--dynamic-config-value',
    'frontend.enableUpdateWorkflowExecution=true',
    '--dynamic-config-value',
    'frontend.enableUpdateWorkflowExecutionAsyncAccepted=true',
    '--dynamic-config-value',
    'frontend.enableServerVersionCheck=false',
    ...(options.dbFilename ? ['--db-filename', options.dbFilename] : []),
    ...(options.ui ? ['--ui-port', String(options.uiPort ?? port + 1000)] : ['--headless']),
    ...searchAttributes.flatMap(({ name, type }) => [
      '--search-attribute',
      `${name}=${TypedSearchAttributes.toMetadataType(type)}`,
    ]),
    ...extraArgs,
  ];
  return launchDevServer(cli, args, port, options.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS);
}

async function sdkDownloadedServer(
  port: number,
  options: DevServerOptions,
  searchAttributes: (typeof WRIT_SEARCH_ATTRIBUTES)[keyof typeof WRIT_SEARCH_ATTRIBUTES][],
  extraArgs: string[],
): Promise<DevServer> {
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'cached-download' },
      ip: '127.0.0.1',
      port,
      ...(options.dbFilename ? { dbFilename: options.dbFilename } : {}),
      ...(options.ui ? { ui: true, ...(options.uiPort ? { uiPort: options.uiPort } : {}) } : {}),
      searchAttributes,
      extraArgs,
    },
  });
  return { address: env.address, teardown: () => env.teardown() };
}
