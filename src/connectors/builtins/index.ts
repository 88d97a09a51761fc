import { tmpdir } from 'node:os';
import { filesConnector } from '../files/index.js';
import { httpConnector } from '../http/index.js';
import { postgresConnector } from '../postgres/index.js';
import type { Connector } from '../types.js';
import { webhookConnector } from '../webhook/index.js';
import { createPool } from '../../db/pool.js';
import { WritError } from '../../model/errors.js';

/** Where the built-in connectors write, from the environment (see the README's configuration). */
export interface BuiltinConnectorConfig {
  postgresUrl: string;
  /** Let the postgres connector write a database that holds a Writ ledger (never Writ's own schemas). */
  postgresAllowLedgerDatabase?: boolean;
  /** `schema.table` globs the postgres connector may write; every table outside reserved schemas when absent. */
  postgresTables?: string[];
  httpBaseUrl?: string;
  filesRoot?: string;
  webhookUrl?: string;
  webhookSecret?: string;
}

/** An on/off setting: anything but these words is a mistake worth stopping for. */
function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const value = env[name]?.trim().toLowerCase();
  if (value === undefined || value === '' || ['false', '0', 'no', 'off'].includes(value)) return false;
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  throw new WritError(
    'CONFIG',
    `${name}=${env[name]} is neither true nor false`,
    `Set ${name}=true or leave it unset.`,
  );
}

export function builtinConfigFromEnv(
  databaseUrl: string,
  env: NodeJS.ProcessEnv = process.env,
): BuiltinConnectorConfig {
  return {
    postgresUrl: env.WRIT_POSTGRES_CONNECTOR_URL || databaseUrl,
    ...(flag(env, 'WRIT_POSTGRES_CONNECTOR_ALLOW_LEDGER_DATABASE') ? { postgresAllowLedgerDatabase: true } : {}),
    ...(env.WRIT_POSTGRES_CONNECTOR_TABLES?.trim()
      ? {
          postgresTables: env.WRIT_POSTGRES_CONNECTOR_TABLES.split(',')
            .map((table) => table.trim())
            .filter(Boolean),
        }
      : {}),
    ...(env.WRIT_HTTP_BASE_URL ? { httpBaseUrl: env.WRIT_HTTP_BASE_URL } : {}),
    ...(env.WRIT_FILES_ROOT ? { filesRoot: env.WRIT_FILES_ROOT } : {}),
    ...(env.WRIT_WEBHOOK_URL ? { webhookUrl: env.WRIT_WEBHOOK_URL } : {}),
    ...(env.WRIT_WEBHOOK_SECRET ? { webhookSecret: env.WRIT_WEBHOOK_SECRET } : {}),
  };
}

/** The built-ins a worker registers: PostgreSQL always, the others when configured. */
export function builtinConnectors(config: BuiltinConnectorConfig): Connector[] {
  const connectors: Connector[] = [
    postgresConnector({
      pool: createPool(config.postgresUrl, { max: 4, applicationName: 'writ-connector-postgres', service: true }),
      closePool: true,
      ...(config.postgresAllowLedgerDatabase ? { allowLedgerDatabase: true } : {}),
      ...(config.postgresTables ? { allowedTables: config.postgresTables } : {}),
    }),
  ];
  if (config.httpBaseUrl) connectors.push(httpConnector({ baseUrl: config.httpBaseUrl }));
  if (config.filesRoot) connectors.push(filesConnector({ root: config.filesRoot }));
  if (config.webhookUrl)
    connectors.push(
      webhookConnector({ url: config.webhookUrl, ...(config.webhookSecret ? { secret: config.webhookSecret } : {}) }),
    );
  return connectors;
}

/**
 * Every built-in, configured or not, for printing contracts: nothing here connects anywhere
 * (a pg pool connects on first use, the others on their first request).
 */
export function describableBuiltins(
  config: BuiltinConnectorConfig,
): Array<{ connector: Connector; configured: boolean; close: () => Promise<void> }> {
  const pool = createPool(config.postgresUrl, { max: 1 });
  return [
    {
      connector: postgresConnector({
        pool,
        ...(config.postgresTables ? { allowedTables: config.postgresTables } : {}),
      }),
      configured: true,
      close: () => pool.end(),
    },
    {
      connector: httpConnector({ baseUrl: config.httpBaseUrl ?? 'http://127.0.0.1/' }),
      configured: Boolean(config.httpBaseUrl),
      close: async () => undefined,
    },
    {
      connector: filesConnector({ root: config.filesRoot ?? tmpdir() }),
      configured: Boolean(config.filesRoot),
      close: async () => undefined,
    },
    {
      connector: webhookConnector({ url: config.webhookUrl ?? 'http://127.0.0.1/' }),
      configured: Boolean(config.webhookUrl),
      close: async () => undefined,
    },
  ];
}
