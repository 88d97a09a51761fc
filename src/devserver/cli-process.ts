import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { acceptsConnections } from '../net/ports.js';

export interface RunningDevServer {
  /** 127.0.0.1:port of the frontend (gRPC). */
  address: string;
  /** Stops the server and waits for its process to be gone; safe to call twice. */
  teardown(): Promise<void>;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const STDERR_TAIL_CHARS = 4000;
const POLL_MS = 100;

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
  const child = spawn(cli, args, { stdio: ['ignore', 'inherit', 'pipe'] });
  let stderrTail = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    process.stderr.write(chunk);
    stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
  });
  let exit: Exit | undefined;
  let spawnError: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('error', (error) => {
      spawnError = error;
      resolve();
    });
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve();
    });
  });
  // A process that exits without tearing down must not leave a server holding its ports.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    if (!exit && !spawnError) child.kill('SIGKILL');
    await exited;
  };
  const printed = () => (stderrTail.trim() ? `; what it printed last:\n${stderrTail.trim()}` : '');

  const deadline = Date.now() + startupTimeoutMs;
  for (;;) {
    if (spawnError) {
      await stop();
      throw new Error(`could not run the Temporal CLI ${cli}: ${spawnError.message}`);
    }
    if (exit) {
      await stop();
      const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
      throw new Error(`the Temporal dev server ${how} before it answered on ${address}${printed()}`);
    }
    if (await answers(port)) return { address, teardown: stop };
    if (Date.now() >= deadline) {
      await stop();
      throw new Error(
        `the Temporal dev server did not answer on ${address} within ${startupTimeoutMs / 1000} s and was stopped${printed()}`,
      );
    }
    await sleep(POLL_MS);
  }
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
