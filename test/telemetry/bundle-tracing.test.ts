import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NativeConnection, Worker } from '@temporalio/worker';
import { writPlugin } from '../../src/plugin.js';
import { startTracing } from '../../src/telemetry/tracing.js';
import { freshLedger, temporalAddress } from '../support/db.js';
import { workflowBundle } from '../support/writ.js';

// writ worker picks the traced bundle itself (test/telemetry/otlp-spans.test.ts); a worker of one's
// own given writPlugin({ tracing }) and a bundle from writBundleOptions() must not start silently
// without workflow spans either.
describe('a worker of your own with writPlugin and tracing', () => {
  test('refuses a prebuilt bundle built without the OpenTelemetry workflow interceptors, saying how to build one', async (t) => {
    const ledger = await freshLedger(t);
    const tracing = startTracing({ tracesUrl: 'http://127.0.0.1:9/v1/traces', serviceName: 'writ-test' });
    t.after(() => tracing.shutdown());
    const connection = await NativeConnection.connect({ address: temporalAddress() });
    t.after(() => connection.close());
    const untraced = await workflowBundle();
    await assert.rejects(
      Worker.create({
        connection,
        taskQueue: 'bundle-tracing',
        workflowBundle: untraced,
        plugins: [writPlugin({ ledger: { pool: ledger.pool }, connectors: [], tracing })],
      }),
      (error: Error & { hint?: string }) => {
        assert.match(error.message, /tracing is on, but the workflow bundle .* was built without the OpenTelemetry/);
        assert.match(error.hint ?? '', /writBundleOptions\(\{ tracing: true \}\)/);
        return true;
      },
    );
  });
});
