import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';

export interface RunningDevServer {
  /** host:port of the frontend (gRPC). */
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
 * Runs `temporal server start-dev` with `args` and resolves once its frontend answers at
 * `address`. The SDK's own launcher gives up after a fixed five seconds, which a file-backed
 * server restarting on a busy two-core machine overran in CI; here the deadline is the caller's,
 * and a server that exits before it answers fails at once with what it printed.
 */
export async function launchDevServer(
  cli: string,
  args: string[],
  address: string,
  startupTimeoutMs: number,
): Promise<RunningDevServer> {
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
    if (await answers(address)) return { address, teardown: stop };
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
async function answers(address: string): Promise<boolean> {
  if (!(await acceptsTcp(address))) return false;
  // Lazy, so that a connection which never connected is closed too: its channel would otherwise go
  // on retrying and keep the process alive.
  const connection = Connection.lazy({ address, connectTimeout: 2000 });
  try {
    await connection.ensureConnected();
    return true;
  } catch {
    return false;
  } finally {
    await connection.close();
  }
}

function acceptsTcp(address: string): Promise<boolean> {
  const at = address.lastIndexOf(':');
  return new Promise((resolve) => {
    const socket = connect({ host: address.slice(0, at), port: Number(address.slice(at + 1)) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
