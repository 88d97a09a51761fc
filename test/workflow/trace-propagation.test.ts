import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { parseRequest } from '../../src/model/request.js';
import { traceContextClientInterceptor } from '../../src/tracing/client-interceptor.js';
import { WritClient } from '../../src/client.js';
import { runWrit } from '../support/cli.js';
import type { WritHarness } from '../support/writ.js';
import { startWrit, updateTier } from '../support/writ.js';
import { temporalAddress } from '../support/db.js';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const CALLER = `00-${TRACE_ID}-b7ad6b7169203331-01`;

async function traceparents(
  harness: WritHarness,
  operationId: string,
): Promise<Array<{ type: string; traceparent: string | null }>> {
  const result = await harness.ledger.pool.query(
    `SELECT record->>'type' AS type, record->>'traceparent' AS traceparent FROM writ.records WHERE operation_id = $1 ORDER BY seq`,
    [operationId],
  );
  return result.rows;
}

/** A governedWrite started by a plain Temporal client: the request has no traceparent of its own. */
async function startWithoutWrit(client: Client, taskQueue: string): Promise<string> {
  const parsed = parseRequest(updateTier());
  assert.ok(parsed.ok);
  assert.equal('traceparent' in parsed.request, false);
  const operationId = randomUUID();
  const handle = await client.workflow.start('governedWrite', {
    taskQueue,
    workflowId: operationId,
    args: [{ ...parsed.request, operationId }, {}],
  });
  await handle.result();
  return operationId;
}

test('the trace travels in Temporal headers to every activity call, each under a span of its own', async (t) => {
  const harness = await startWrit(t);
  const started = await harness.writ.start(updateTier({ traceparent: CALLER }));
  await harness.writ.result(started.operationId);

  const records = await traceparents(harness, started.operationId);
  assert.ok(records.length >= 8);
  for (const record of records)
    assert.match(
      record.traceparent ?? '',
      new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`),
      `${record.type} keeps the caller's trace and flags`,
    );
  const spans = new Set(records.map((r) => r.traceparent!.split('-')[2]));
  assert.equal(spans.has('b7ad6b7169203331'), false, "no record claims the caller's own span");
  assert.ok(spans.size >= 5, `one span per activity call, not one for the whole operation (saw ${spans.size})`);
  const spanOf = (type: string) => records.find((r) => r.type === type)!.traceparent;
  assert.equal(
    spanOf('step.verifying'),
    spanOf('step.verified'),
    'records written by one activity call share its span',
  );
  assert.notEqual(spanOf('step.executed'), spanOf('step.verified'), 'execute and verify are different calls');

  // The execute step is a regular activity: its schedule event in the workflow history holds the
  // header, which must be exactly what its records carry.
  const history = await started.handle.fetchHistory();
  const scheduled = history
    .events!.map((e) => e.activityTaskScheduledEventAttributes)
    .find((a) => a?.activityType?.name === 'executeStep');
  const header = scheduled?.header?.fields?.traceparent;
  assert.ok(header, 'executeStep was scheduled with a traceparent header');
  assert.equal(defaultPayloadConverter.fromPayload(header), spanOf('step.executed'));
});

test("a plain Temporal client with the client interceptor: the start header's trace reaches every record", async (t) => {
  const harness = await startWrit(t);
  const client = new Client({
    connection: harness.client.connection,
    interceptors: { workflow: [traceContextClientInterceptor(() => CALLER)] },
  });
  const operationId = await startWithoutWrit(client, harness.taskQueue);
  const records = await traceparents(harness, operationId);
  assert.ok(records.length > 0);
  assert.ok(
    records.every((r) => r.traceparent?.startsWith(`00-${TRACE_ID}-`)),
    JSON.stringify(records),
  );
  const row = await harness.ledger.pool.query(
    'SELECT DISTINCT correlation_id FROM writ.records WHERE operation_id = $1',
    [operationId],
  );
  assert.deepEqual(row.rows, [{ correlation_id: TRACE_ID }]);
});

test("a caller traced by OpenTelemetry's Temporal interceptors (_tracer-data header) joins its trace", async (t) => {
  const harness = await startWrit(t);
  const otelTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
  const openTelemetryLike: WorkflowClientInterceptor = {
    start: (input, next) =>
      next({
        ...input,
        headers: {
          ...input.headers,
          '_tracer-data': defaultPayloadConverter.toPayload({ traceparent: `00-${otelTrace}-00f067aa0ba902b7-01` }),
        },
      }),
  };
  const client = new Client({ connection: harness.client.connection, interceptors: { workflow: [openTelemetryLike] } });
  const operationId = await startWithoutWrit(client, harness.taskQueue);
  const records = await traceparents(harness, operationId);
  assert.ok(
    records.every((r) => r.traceparent?.startsWith(`00-${otelTrace}-`)),
    JSON.stringify(records),
  );
});

test('a start with no trace anywhere still gets one, and the operation closes normally', async (t) => {
  const harness = await startWrit(t);
  const operationId = await startWithoutWrit(harness.client, harness.taskQueue);
  const records = await traceparents(harness, operationId);
  const traces = new Set(records.map((r) => r.traceparent?.split('-')[1]));
  assert.equal(traces.size, 1, 'one trace for the whole operation');
  assert.match([...traces][0] ?? '', /^[0-9a-f]{32}$/);
  assert.ok(records.some((r) => r.type === 'operation.closed'));
});

test("WritClient joins the caller's current trace, and refuses a malformed one by name", async (t) => {
  const harness = await startWrit(t);
  const writ = new WritClient(harness.client, { taskQueue: harness.taskQueue, traceparent: () => CALLER });
  const started = await writ.start(updateTier());
  assert.equal(started.correlationId, TRACE_ID);
  await writ.result(started.operationId);

  const explicit = await writ.start(updateTier({ traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-00` }));
  assert.equal(explicit.correlationId, '1'.repeat(32), "the request's own traceparent wins over the ambient one");
  await writ.result(explicit.operationId);

  const broken = new WritClient(harness.client, { taskQueue: harness.taskQueue, traceparent: () => 'not-a-trace' });
  await assert.rejects(
    broken.start(updateTier()),
    /current traceparent "not-a-trace" does not follow W3C Trace Context/,
  );
});

test('writ submit joins the TRACEPARENT a tracing-aware shell exports', async (t) => {
  const harness = await startWrit(t);
  const dir = mkdtempSync(join(tmpdir(), 'writ-trace-'));
  const file = join(dir, 'request.json');
  writeFileSync(file, JSON.stringify(updateTier()));
  const submitted = await runWrit(
    ['submit', file, '--wait', '--json', '--task-queue', harness.taskQueue, '--temporal-address', temporalAddress()],
    { env: { TRACEPARENT: CALLER } },
  );
  assert.equal(submitted.code, 0, submitted.stderr);
  const result = JSON.parse(submitted.stdout.trim().split('\n').at(-1)!) as { operationId: string };
  const records = await traceparents(harness, result.operationId);
  assert.ok(
    records.length > 0 && records.every((r) => r.traceparent?.startsWith(`00-${TRACE_ID}-`)),
    JSON.stringify(records),
  );
});
