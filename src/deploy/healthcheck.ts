/**
 * Container health checks for the compose deployment: `node dist/src/deploy/healthcheck.js worker|serve`.
 * Exit 0 healthy, 1 unhealthy (Docker's convention), with one line saying why.
 *
 * A live `writ worker` process is not the same as a working one: what matters is that it polls
 * its task queue, so the worker check asks Temporal for the queue's pollers and looks for this
 * container's. `writ serve` is healthy when it answers HTTP at all.
 */
import { hostname } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Connection } from '@temporalio/client';
import { configFromEnv } from '../config/writ-config.js';

export interface HealthResult {
  healthy: boolean;
  reason: string;
}

/** Pollers re-poll at least once a minute (a long poll lasts up to ~70 s), so older means gone. */
export const POLLER_FRESH_MS = 2.5 * 60_000;

// temporal.api.enums.v1 values, spelled out because @temporalio/proto is not a runtime dependency.
const TASK_QUEUE_KIND_NORMAL = 1;
const TASK_QUEUE_TYPE_WORKFLOW = 1;

export async function workerHealth(
  env: NodeJS.ProcessEnv = process.env,
  host = hostname(),
  now = Date.now(),
): Promise<HealthResult> {
  const config = configFromEnv(env);
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: config.temporalAddress, connectTimeout: '5s' });
  } catch (error) {
    return { healthy: false, reason: `no Temporal at ${config.temporalAddress}: ${(error as Error).message}` };
  }
  try {
    const { pollers } = await connection.workflowService.describeTaskQueue({
      namespace: config.namespace,
      taskQueue: { name: config.taskQueue, kind: TASK_QUEUE_KIND_NORMAL },
      taskQueueType: TASK_QUEUE_TYPE_WORKFLOW,
    });
    // The SDK's default worker identity is `<pid>@<hostname>`; in a container the hostname is the container's.
    const mine = (pollers ?? []).filter((poller) => poller.identity?.endsWith(`@${host}`));
    const fresh = mine.filter((poller) => now - millis(poller.lastAccessTime) < POLLER_FRESH_MS);
    if (fresh.length)
      return { healthy: true, reason: `polling task queue ${config.taskQueue} as ${fresh[0]!.identity}` };
    if (mine.length)
      return {
        healthy: false,
        reason: `this host's last poll on task queue ${config.taskQueue} is older than ${POLLER_FRESH_MS / 1000} s`,
      };
    return {
      healthy: false,
      reason: `no worker on ${host} polls task queue ${config.taskQueue} in namespace ${config.namespace}`,
    };
  } catch (error) {
    return { healthy: false, reason: `cannot describe task queue ${config.taskQueue}: ${(error as Error).message}` };
  } finally {
    await connection.close();
  }
}

export async function serveHealth(env: NodeJS.ProcessEnv = process.env): Promise<HealthResult> {
  const port = env.WRIT_SERVE_PORT || '8787';
  const url = `http://127.0.0.1:${port}/`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(4_000), redirect: 'manual' });
    await response.body?.cancel();
    // Any answer below 500 (a 404 for `/` included) means the server is up and handling requests.
    return response.status < 500
      ? { healthy: true, reason: `${url} answered ${response.status}` }
      : { healthy: false, reason: `${url} answered ${response.status}` };
  } catch (error) {
    return { healthy: false, reason: `${url}: ${(error as Error).message}` };
  }
}

function millis(
  timestamp: { seconds?: { toNumber(): number } | number | null; nanos?: number | null } | null | undefined,
): number {
  if (!timestamp) return 0;
  const seconds = typeof timestamp.seconds === 'number' ? timestamp.seconds : (timestamp.seconds?.toNumber() ?? 0);
  return seconds * 1000 + Math.floor((timestamp.nanos ?? 0) / 1e6);
}

async function main(argv: string[]): Promise<number> {
  const which = argv[2];
  const checks: Record<string, () => Promise<HealthResult>> = {
    worker: () => workerHealth(),
    serve: () => serveHealth(),
  };
  const check = which ? checks[which] : undefined;
  if (!check) {
    console.error('usage: healthcheck.js worker|serve');
    return 2;
  }
  const result = await check();
  (result.healthy ? console.log : console.error)(
    `${which}: ${result.healthy ? 'healthy' : 'unhealthy'}: ${result.reason}`,
  );
  return result.healthy ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv);
}
