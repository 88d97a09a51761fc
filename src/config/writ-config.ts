/**
 * Configuration comes from the environment; the CLI's flags override it. Defaults point at the
 * services a developer most likely has locally so the first run needs no setup.
 */
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/writ';
export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';
export const DEFAULT_NAMESPACE = 'default';
export const DEFAULT_TASK_QUEUE = 'writ';

export interface WritConfig {
  databaseUrl: string;
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): WritConfig {
  return {
    databaseUrl: env.DATABASE_URL || DEFAULT_DATABASE_URL,
    temporalAddress: env.TEMPORAL_ADDRESS || DEFAULT_TEMPORAL_ADDRESS,
    namespace: env.TEMPORAL_NAMESPACE || DEFAULT_NAMESPACE,
    taskQueue: env.WRIT_TASK_QUEUE || DEFAULT_TASK_QUEUE,
  };
}
