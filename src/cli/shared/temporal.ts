import { Client, Connection } from '@temporalio/client';
import { WritClient } from '../../client.js';
import { configFromEnv } from '../../config/writ-config.js';
import { WritError } from '../../model/errors.js';

export interface TemporalOptions {
  temporalAddress?: string;
  namespace?: string;
  taskQueue?: string;
}

export function temporalConfig(options: TemporalOptions) {
  const env = configFromEnv();
  return {
    address: options.temporalAddress ?? env.temporalAddress,
    namespace: options.namespace ?? env.namespace,
    taskQueue: options.taskQueue ?? env.taskQueue,
  };
}

/** Connects to Temporal, with an error that says what to do when nothing answers. */
export async function withWritClient<T>(options: TemporalOptions, work: (writ: WritClient) => Promise<T>): Promise<T> {
  const { address, namespace, taskQueue } = temporalConfig(options);
  let connection: Connection;
  try {
    connection = await Connection.connect({ address, connectTimeout: '5s' });
  } catch (error) {
    throw new WritError(
      'TEMPORAL_UNREACHABLE',
      `no Temporal server answers at ${address}: ${(error as Error).message}`,
      'Start one (`temporal server start-dev`, or `writ dev` once it exists) or point Writ at yours with TEMPORAL_ADDRESS=host:7233 (or --temporal-address).',
      { cause: error },
    );
  }
  try {
    // TRACEPARENT is the environment variable tracing-aware shells and CI tools (otel-cli and the
    // like) export for the commands they run: a submit from such a shell joins that trace.
    return await work(
      new WritClient(new Client({ connection, namespace }), {
        taskQueue,
        traceparent: () => process.env.TRACEPARENT || undefined,
      }),
    );
  } finally {
    await connection.close();
  }
}
