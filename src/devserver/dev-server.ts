import { TestWorkflowEnvironment } from '@temporalio/testing';
import { WRIT_SEARCH_ATTRIBUTES } from '../model/search-attributes.js';
import { freePorts } from '../net/ports.js';
import { ensureTemporalCli } from './find-cli.js';

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
  log?: (line: string) => void;
}

/**
 * A Temporal dev server with Writ's search attributes registered, started from the CLI we find or
 * build (or, with no Go toolchain, the SDK's own download). The SQLite pragmas trade durability
 * of the dev server's own state for speed: it is for development and tests.
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<TestWorkflowEnvironment> {
  const cli = await ensureTemporalCli(process.env, options.log);
  // The CLI picks its HTTP API and metrics ports at random when not told, and may pick the gRPC or
  // UI port chosen here before that one is bound: every port is chosen here, together.
  const named = [options.port, options.ui ? options.uiPort : undefined].filter((p): p is number => p !== undefined);
  const [httpPort, metricsPort, grpcPort] = await freePorts(3, named);
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: cli ? { type: 'existing-path', path: cli } : { type: 'cached-download' },
      ip: '127.0.0.1',
      port: options.port ?? grpcPort!,
      ...(options.dbFilename ? { dbFilename: options.dbFilename } : {}),
      ...(options.ui ? { ui: true, ...(options.uiPort ? { uiPort: options.uiPort } : {}) } : {}),
      searchAttributes: Object.values(WRIT_SEARCH_ATTRIBUTES),
      extraArgs: [
        '--sqlite-pragma',
        'journal_mode=WAL',
        '--sqlite-pragma',
        'synchronous=OFF',
        '--http-port',
        String(httpPort),
        '--metrics-port',
        String(metricsPort),
      ],
    },
  });
}
