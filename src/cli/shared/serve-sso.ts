import { Client, Connection } from '@temporalio/client';
import { WritClient } from '../../client.js';
import { configFromEnv } from '../../config/writ-config.js';
import { loadSigner } from '../../evidence/keys.js';
import { peopleFromFile } from '../../identity/people-file.js';
import { WritError } from '../../model/errors.js';
import type { SsoOptions } from '../../serve/sso.js';
import type { SsoEnv } from '../../serve/sso-config.js';

/**
 * What `writ serve` needs to serve approvals from the environment: the channel key, a Temporal
 * connection (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, WRIT_TASK_QUEUE) and the directory.
 */
export async function openSso(
  env: SsoEnv,
  processEnv: NodeJS.ProcessEnv = process.env,
): Promise<{ options: SsoOptions; close(): Promise<void> }> {
  const signer = await loadSigner(env.channelKeyPath).catch((error: Error) => {
    throw new WritError('CONFIG', `WRIT_CHANNEL_KEY: ${error.message}`, 'Make one with `writ keygen --out <dir>`.');
  });
  await peopleFromFile(env.approversFile)().catch((error: Error) => {
    throw new WritError('CONFIG', `WRIT_APPROVERS_FILE ${env.approversFile}: ${error.message}`);
  });
  const temporal = configFromEnv(processEnv);
  const connection = await Connection.connect({ address: temporal.temporalAddress, connectTimeout: '5s' }).catch(
    (error: Error) => {
      throw new WritError(
        'TEMPORAL_UNREACHABLE',
        `no Temporal server answers at ${temporal.temporalAddress}: ${error.message}`,
        'writ serve sends approvals through Temporal: point it at yours with TEMPORAL_ADDRESS.',
      );
    },
  );
  const writ = new WritClient(new Client({ connection, namespace: temporal.namespace }), {
    taskQueue: temporal.taskQueue,
  });
  return {
    options: {
      issuer: env.issuer,
      clientId: env.clientId,
      ...(env.clientSecret ? { clientSecret: env.clientSecret } : {}),
      channel: { name: env.channelName, privateKey: signer.privateKey },
      writ,
      people: peopleFromFile(env.approversFile),
    },
    close: () => connection.close(),
  };
}
