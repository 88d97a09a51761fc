import type { Connection } from '@temporalio/client';
import type { CheckResult } from './check.js';
import { fail, ok } from './check.js';

/** Pollers re-poll at least once a minute (a long poll lasts up to ~70 s), so older means gone. */
export const POLLER_FRESH_MS = 2.5 * 60_000;

// temporal.api.enums.v1 values, spelled out because @temporalio/proto is not a runtime dependency.
const TASK_QUEUE_KIND_NORMAL = 1;
const TASK_QUEUE_TYPES = { workflow: 1, activity: 2 } as const;

export type TaskQueueType = keyof typeof TASK_QUEUE_TYPES;

export interface Poller {
  identity: string;
  lastAccessMs: number;
}

export interface QueuePollers {
  type: TaskQueueType;
  /** Pollers seen recently enough to still be there. */
  fresh: Poller[];
  /** Pollers whose last poll is too old: a worker that stopped or hangs. */
  stale: Poller[];
}

/**
 * Who polls a task queue of one type. `host` keeps only this host's pollers: the SDK's default
 * worker identity is `<pid>@<hostname>`, and in a container the hostname is the container's.
 */
export async function queuePollers(
  connection: Connection,
  where: { namespace: string; taskQueue: string; type: TaskQueueType; host?: string | undefined },
  now = Date.now(),
): Promise<QueuePollers> {
  const { pollers } = await connection.workflowService.describeTaskQueue({
    namespace: where.namespace,
    taskQueue: { name: where.taskQueue, kind: TASK_QUEUE_KIND_NORMAL },
    taskQueueType: TASK_QUEUE_TYPES[where.type],
  });
  const seen = (pollers ?? [])
    .map((poller) => ({ identity: poller.identity ?? '', lastAccessMs: millis(poller.lastAccessTime) }))
    .filter((poller) => !where.host || poller.identity.endsWith(`@${where.host}`));
  return {
    type: where.type,
    fresh: seen.filter((poller) => now - poller.lastAccessMs < POLLER_FRESH_MS),
    stale: seen.filter((poller) => now - poller.lastAccessMs >= POLLER_FRESH_MS),
  };
}

function millis(
  timestamp: { seconds?: { toNumber(): number } | number | null; nanos?: number | null } | null | undefined,
): number {
  if (!timestamp) return 0;
  const seconds = typeof timestamp.seconds === 'number' ? timestamp.seconds : (timestamp.seconds?.toNumber() ?? 0);
  return seconds * 1000 + Math.floor((timestamp.nanos ?? 0) / 1e6);
}

/**
 * A worker polls both of Writ's task queues (workflow and activity tasks). With `host`, it must
 * be this host's: a container is healthy when its own worker polls, not when another does.
 */
export async function pollersCheck(
  connection: Connection,
  where: { namespace: string; taskQueue: string; host?: string },
): Promise<CheckResult> {
  const { namespace, taskQueue, host } = where;
  const queues = await Promise.all(
    (['workflow', 'activity'] as const).map((type) => queuePollers(connection, { namespace, taskQueue, type, host })),
  );
  const who = host ? `no worker on ${host}` : 'no worker';
  const start = `start one: writ worker (with TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE=${namespace}, WRIT_TASK_QUEUE=${taskQueue})`;
  for (const queue of queues) {
    if (queue.fresh.length) continue;
    if (queue.stale.length)
      return fail(
        'worker-pollers',
        `the last poll of the ${queue.type} task queue ${taskQueue} by ${queue.stale[0]!.identity} is older than ${POLLER_FRESH_MS / 1000} s`,
        `restart the worker (${queue.stale[0]!.identity}); its logs say why it stopped polling`,
      );
    return fail(
      'worker-pollers',
      `${who} polls the ${queue.type} task queue ${taskQueue} in namespace ${namespace}`,
      start,
    );
  }
  return ok('worker-pollers', `${taskQueue} is polled by ${queues[0]!.fresh.map((p) => p.identity).join(', ')}`);
}
