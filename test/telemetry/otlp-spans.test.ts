import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { WritClient } from '../../src/client.js';
import { freshLedger, temporalAddress } from '../support/db.js';
import { ASSERTED_IDENTITIES } from '../support/identities.js';
import type { ReceivedSpan } from '../support/otlp-receiver.js';
import { startOtlpReceiver } from '../support/otlp-receiver.js';
import { spawnWorker } from '../support/worker-process.js';
import { updateTier, waitFor } from '../support/writ.js';

describe('when an OTLP endpoint is configured, `writ worker` exports the trace of each governed write', () => {
  test("a workflow span and a span per activity, children of the caller's span, naming the operation", async (t) => {
    const ledger = await freshLedger(t);
    await ledger.pool.query(`CREATE TABLE accounts (id int PRIMARY KEY, name text NOT NULL, tier text NOT NULL)`);
    await ledger.pool.query(`INSERT INTO accounts VALUES (42, 'Acme', 'silver')`);
    const policyFile = join(mkdtempSync(join(tmpdir(), 'writ-otel-')), 'policy.json');
    writeFileSync(policyFile, JSON.stringify({ id: 'open', identity: ASSERTED_IDENTITIES, rules: [] }));
    const collector = await startOtlpReceiver();
    t.after(() => collector.close());
    const taskQueue = `otel-${randomUUID()}`;
    const worker = await spawnWorker({
      DATABASE_URL: ledger.url,
      WRIT_POSTGRES_CONNECTOR_ALLOW_LEDGER_DATABASE: 'true',
      TEMPORAL_ADDRESS: temporalAddress(),
      WRIT_TASK_QUEUE: taskQueue,
      WRIT_POLICY_FILE: policyFile,
      WRIT_OTEL_EXPORTER_OTLP_ENDPOINT: `${collector.endpoint}/`,
      OTEL_SERVICE_NAME: '',
    });
    t.after(() => worker.stop());
    const connection = await Connection.connect({ address: temporalAddress() });
    t.after(() => connection.close());
    const writ = new WritClient(new Client({ connection }), { taskQueue });

    // The caller's own span: the operation must show up under it in the caller's trace.
    const traceId = randomBytes(16).toString('hex');
    const callerSpan = randomBytes(8).toString('hex');
    const { operationId } = await writ.start(updateTier({ traceparent: `00-${traceId}-${callerSpan}-01` }));
    assert.equal((await writ.result(operationId)).outcome, 'succeeded');

    const ofTrace = () => collector.spans.filter((span) => span.traceId === traceId);
    const named = (name: string) => ofTrace().filter((span) => span.name === name);
    await waitFor(
      'the workflow span and the executeStep span',
      async () => Boolean(named('RunWorkflow:governedWrite').length && named('RunActivity:executeStep').length),
      30_000,
    ).catch((error: Error) => {
      const seen = collector.spans.map((s) => `${s.name} ${s.traceId}/${s.parentSpanId}/${s.spanId}`);
      seen.unshift(`expected trace ${traceId}, caller span ${callerSpan}`);
      throw new Error(`${error.message}; spans received:\n${seen.join('\n')}\nworker:\n${worker.output()}`);
    });

    const [workflow, ...more] = named('RunWorkflow:governedWrite');
    assert.equal(more.length, 0, 'one workflow span');
    assert.equal(workflow!.parentSpanId, callerSpan, "the workflow span is a child of the caller's span");
    assert.equal(workflow!.attributes.workflowId, operationId);
    assert.equal(workflow!.resource['service.name'], 'writ-worker');

    const byId = new Map<string, ReceivedSpan>(ofTrace().map((span) => [span.spanId, span]));
    for (const activity of ['plan', 'validate', 'executeStep', 'verifyStep', 'recordEvents']) {
      const runs = named(`RunActivity:${activity}`);
      assert.ok(runs.length > 0, `a span for ${activity}`);
      for (const run of runs) {
        assert.equal(run.attributes.temporalWorkflowId, operationId);
        const start = byId.get(run.parentSpanId);
        assert.equal(start?.name, `StartActivity:${activity}`, `${activity} runs under the span that scheduled it`);
        assert.equal(start.parentSpanId, workflow!.spanId, `${activity} was scheduled by the workflow`);
      }
    }
    assert.equal(collector.refused, 0);
  });

  test('a worker that traces refuses a prebuilt bundle without the workflow interceptors, before it polls anything', async (t) => {
    const ledger = await freshLedger(t);
    const collector = await startOtlpReceiver();
    t.after(() => collector.close());
    // The test run's untraced bundle (writBundleOptions()) and no traced one: tracing could only
    // give activity spans under workflow spans that never come.
    const refused = await spawnWorker({
      DATABASE_URL: ledger.url,
      TEMPORAL_ADDRESS: temporalAddress(),
      WRIT_TASK_QUEUE: `otel-${randomUUID()}`,
      WRIT_OTEL_EXPORTER_OTLP_ENDPOINT: `${collector.endpoint}/`,
      WRIT_WORKFLOW_BUNDLE_TRACED: '',
    }).then(
      (worker) => worker.stop().then(() => null),
      (error: Error) => error,
    );
    assert.ok(refused, 'the worker started');
    assert.match(refused.message, /exited early \(2\)/);
    assert.match(refused.message, /built without the OpenTelemetry workflow interceptors/);
    assert.match(refused.message, /WRIT_WORKFLOW_BUNDLE_TRACED/);
    assert.equal(
      (await ledger.pool.query(`SELECT count(*)::int AS n FROM writ.records`)).rows[0].n,
      0,
      'refused before it recorded its start',
    );
  });
});
