import { Connection } from '@temporalio/client';
import { acceptsConnections } from '../net/ports.js';
import { startServerProcess } from './server-process.js';

export interface RunningDevServer {
  /** 127.0.0.1:port of the frontend (gRPC). */
  address: string;
  /** Stops the server and waits for its process to be gone; safe to call twice. */
  teardown(): Promise<void>;
}

/**
 * Runs `temporal server start-dev` with `args` and resolves once its frontend answers on
 * 127.0.0.1:`port`. The SDK's own launcher gives up after a fixed five seconds, which a file-backed
 * server restarting on a busy two-core machine overran in CI; here the deadline is the caller's,
 * and a server that exits before it answers fails at once with what it printed.
 */
export async function launchDevServer(
  cli: string,
  args: string[],
  port: number,
  startupTimeoutMs: number,
): Promise<RunningDevServer> {
  const address = `127.0.0.1:${port}`;
  const server = await startServerProcess({
    name: 'the Temporal dev server',
    command: cli,
    args,
    address,
    answers: () => answers(port),
    startupTimeoutMs,
    stdout: 'inherit',
    echoStderr: true,
    // As the SDK's launcher did: nothing of a dev server needs a clean shutdown (a file-backed one
    // is SQLite in WAL mode, and test/workflow/server-restart restarts one after this).
    stopGraceMs: 0,
  });
  return { address, teardown: server.stop };
}

/**
 * A frontend answers when it accepts TCP and then a gRPC call. TCP first: a gRPC channel to a port
 * nobody listens on backs off for a second or more before it tries again.
 */
async function answers(port: number): Promise<boolean> {
  if (!(await acceptsConnections(port))) return false;
  // Lazy, so that a connection which never connected is closed too: its channel would otherwise go
  // on retrying and keep the process alive.
  const connection = Connection.lazy({ address: `127.0.0.1:${port}`, connectTimeout: 2000 });
  try {
    await connection.ensureConnected();
    return true;
  } catch {
    return false;
  } finally {
    await connection.close();
  }
}
