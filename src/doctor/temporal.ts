import { Connection } from '@temporalio/client';
import type { CheckResult } from './check.js';
import { fail, guarded, messageOf, ok, skip } from './check.js';
import type { DoctorContext } from './context.js';
import { pollersCheck } from './pollers.js';
import { searchAttributesCheck } from './search-attributes.js';

/** Temporal reachable, the namespace there, Writ's search attributes in it, and a worker polling. */
export async function temporalChecks(context: DoctorContext): Promise<CheckResult[]> {
  const { temporalAddress: address, namespace, taskQueue } = context.config;
  const later = ['namespace', 'search-attributes', ...(context.role === 'serve' ? [] : ['worker-pollers'])];
  let connection: Connection;
  try {
    connection = await Connection.connect({ address, connectTimeout: '3s' });
  } catch (error) {
    return [
      fail(
        'temporal',
        `nothing answers at ${address}: ${messageOf(error)}`,
        'start the Temporal server, or set TEMPORAL_ADDRESS=host:7233 to yours',
      ),
      ...later.map((name) => skip(name, 'Temporal is unreachable')),
    ];
  }
  try {
    const results = [ok('temporal', `answers at ${address}`)];
    const found = await namespaceCheck(connection, namespace);
    results.push(found);
    if (found.status !== 'ok') return [...results, ...later.slice(1).map((name) => skip(name, 'no namespace'))];
    results.push(
      await guarded('search-attributes', `temporal operator search-attribute list --namespace ${namespace}`, () =>
        searchAttributesCheck(connection, namespace),
      ),
    );
    if (context.role !== 'serve')
      results.push(
        await guarded(
          'worker-pollers',
          `temporal task-queue describe --namespace ${namespace} --task-queue ${taskQueue}`,
          () =>
            pollersCheck(connection, {
              namespace,
              taskQueue,
              ...(context.role === 'worker' ? { host: context.host } : {}),
            }),
        ),
      );
    return results;
  } finally {
    await connection.close();
  }
}

async function namespaceCheck(connection: Connection, namespace: string): Promise<CheckResult> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return ok('namespace', `${namespace} exists`);
  } catch (error) {
    return fail(
      'namespace',
      `namespace ${namespace}: ${messageOf(error)}`,
      `temporal operator namespace create --namespace ${namespace} (or set TEMPORAL_NAMESPACE to an existing one)`,
    );
  }
}
