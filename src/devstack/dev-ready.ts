import { join } from 'node:path';
import type { BuiltinConnectorConfig } from '../connectors/builtins/index.js';
import { LOGINS } from '../db/logins.js';
import { redactUrl } from '../db/pool.js';
import type { DevOptions } from './dev.js';
import type { SigningKey } from './signing-key.js';
import type { Stack } from './stack.js';

export interface Ready {
  options: DevOptions;
  stateDir: string;
  ledgerUrl: string;
  stack: Stack;
  connectors: BuiltinConnectorConfig;
  /** Whether the services run as their own logins (false: all of them as the ledger's URL). */
  loginsMade: boolean;
  key: SigningKey;
  anchorDir: string;
}

/** What runs where, and the environment that points the CLI at it from another terminal. */
export function printReady(
  say: DevOutput,
  { options, stateDir, ledgerUrl, stack, connectors, loginsMade, key, anchorDir }: Ready,
): void {
  say.line();
  say.item(
    'ledger',
    `${redactUrl(ledgerUrl)}${stack.migrations.length ? ` (migrations applied: ${stack.migrations.join(', ')})` : ''}`,
  );
  say.item('Temporal', `${stack.temporalAddress} (its history is kept in ${join(stateDir, 'temporal.db')})`);
  say.item('Web UI', stack.webUi);
  say.item('writ serve', `${stack.serve.url} (approval inbox: ${stack.serve.url}/approvals)`);
  if (stack.identity)
    say.item(
      'identity',
      `development OpenID provider ${stack.identity.provider.issuer}: the directory's people sign in by id, no password (never for production); directory with identities: ${stack.identity.directoryFile}`,
    );
  say.item(
    'worker',
    `task queue ${options.taskQueue}; connectors postgres (${redactUrl(connectors.postgresUrl)}), files (${connectors.filesRoot})${connectors.httpBaseUrl ? ', http' : ''}${connectors.webhookUrl ? ', webhook' : ''}`,
  );
  if (loginsMade && !process.env.WRIT_POSTGRES_CONNECTOR_URL)
    say.item(
      'postgres connector',
      `connects as ${LOGINS.connector}: GRANT SELECT, INSERT, UPDATE, DELETE ON <table> TO ${LOGINS.connector} for each table it may write`,
    );
  say.item(
    'policy',
    options.policyFile
      ? options.policyFile
      : `${join(stateDir, 'policy.json')}: no rules, every write is low risk, requesters prove who they are (pass --policy and --approvers)`,
  );
  say.item('checkpoints', `signed by ${key.path}, anchored in ${anchorDir}`);
  say.line();
  say.line('Use the CLI against it from another terminal:');
  say.line(
    `  export DATABASE_URL='${ledgerUrl}' TEMPORAL_ADDRESS=${stack.temporalAddress} WRIT_TASK_QUEUE=${options.taskQueue} \\`,
  );
  const client = stack.identity?.serviceClient;
  say.line(
    `    WRIT_SIGNING_KEY='${key.path}' WRIT_VERIFIER_KEY='${key.signer.verifierKey}' WRIT_ANCHOR_DIR='${anchorDir}'${client ? ' \\' : ''}`,
  );
  if (stack.identity && client) {
    say.line(`    WRIT_CLIENT_ID=${client.clientId} WRIT_CLIENT_SECRET='${client.clientSecret}'`);
    say.line(`  writ submit request.json --token-from ${stack.identity.provider.issuer} --wait`);
    say.line('    # requests prove who sends them: this token is the service writ-cli; or sign with --key <your key>');
    say.line('  # then: writ what-happened <operationId>, writ verify; approvers decide at the approval inbox above');
  } else say.line('  writ submit request.json --wait     # then: writ what-happened <operationId>, writ verify');
  say.line();
}

/** The lines `writ dev` prints: plain ones, and labelled addresses padded as the demo's narrator pads them. */
export interface DevOutput {
  line(text?: string): void;
  item(label: string, value: string): void;
}

export function devOutput(write: (text: string) => void): DevOutput {
  return {
    line: (text = '') => write(`${text}\n`),
    item: (label, value) => write(`   ${label.padEnd(16)} ${value}\n`),
  };
}
