/**
 * A namespace of the test's own, registered with one Writ search attribute missing and one of the
 * wrong type: `writ doctor` names both, with the commands that repair them.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { Connection } from '@temporalio/client';
import { temporalAddress } from '../support/db.js';
import { waitFor } from '../support/writ.js';
import { CLEARED, doctorCli } from './support.js';

const KEYWORD = 2;
const TEXT = 1;

/** A namespace of its own with WritMode missing and WritRisk registered as Text. */
async function namespaceWithoutWritMode(connection: Connection): Promise<string> {
  const namespace = `writ-doctor-${randomBytes(4).toString('hex')}`;
  // protobufjs encodes a plain number into an int64 field; the generated type only names Long.
  const request = { namespace, workflowExecutionRetentionPeriod: { seconds: 86_400 } };
  await connection.workflowService.registerNamespace(
    request as unknown as Parameters<typeof connection.workflowService.registerNamespace>[0],
  );
  // A new namespace is unknown to the frontend until its namespace cache refreshes.
  await waitFor(
    'the namespace to answer',
    () =>
      connection.operatorService
        .addSearchAttributes({
          namespace,
          searchAttributes: {
            WritState: KEYWORD,
            WritCorrelationId: KEYWORD,
            WritActor: KEYWORD,
            WritConnector: KEYWORD,
            WritRisk: TEXT,
          },
        })
        .then(
          () => true,
          () => false,
        ),
    30_000,
  );
  return namespace;
}

test('a missing and a wrong-typed search attribute are each named with their fix, exit 1', async (t) => {
  const connection = await Connection.connect({ address: temporalAddress() });
  t.after(() => connection.close());
  const namespace = await namespaceWithoutWritMode(connection);

  const run = await doctorCli({ ...CLEARED, TEMPORAL_ADDRESS: temporalAddress(), TEMPORAL_NAMESPACE: namespace });
  assert.equal(run.code, 1);
  assert.equal(run.checks.get('namespace')!.status, 'ok');
  const attributes = run.checks.get('search-attributes')!;
  assert.equal(attributes.status, 'fail');
  assert.match(attributes.detail, /WritRisk is Text, not Keyword/);
  assert.match(attributes.detail, /WritMode is not registered/);
  assert.doesNotMatch(attributes.detail, /WritState/);
  assert.match(
    attributes.fix!,
    new RegExp(
      `temporal operator search-attribute remove --namespace ${namespace} --name WritRisk --yes && temporal operator search-attribute create --namespace ${namespace} --name WritRisk --type Keyword`,
    ),
  );
  assert.match(
    attributes.fix!,
    new RegExp(`search-attribute create --namespace ${namespace} --name WritMode --type Keyword`),
  );

  const unknown = await doctorCli({
    ...CLEARED,
    TEMPORAL_ADDRESS: temporalAddress(),
    TEMPORAL_NAMESPACE: `${namespace}-absent`,
  });
  assert.equal(unknown.checks.get('namespace')!.status, 'fail');
  assert.match(
    unknown.checks.get('namespace')!.fix!,
    /temporal operator namespace create --namespace writ-doctor-\w+-absent/,
  );
  assert.equal(unknown.checks.get('search-attributes')!.status, 'skip');
});
