/**
 * A run takes or leaves every behaviour change in its first workflow task (run-patches.ts): a patch
 * marker recorded later is one a replay can decide before it sees it, and a run whose replay then
 * leaves the marker out fails with non-determinism for good.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import proto from '@temporalio/proto';
import { SEARCH_ATTRIBUTES_AT_WAITS } from '../../src/workflows/governed-write/run-patches.js';
import { SCENARIOS } from '../replay/scenarios.js';
import { startWrit } from '../support/writ.js';

const { EventType } = proto.temporal.api.enums.v1;

/** The patch markers of a history, each with the number of the workflow task it was recorded in. */
function patchMarkers(history: proto.temporal.api.history.v1.IHistory): Array<{ task: number; marker: string }> {
  const found: Array<{ task: number; marker: string }> = [];
  let task = 0;
  for (const event of history.events ?? []) {
    if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) task++;
    const marker = event.markerRecordedEventAttributes;
    if (marker?.markerName !== 'core_patch') continue;
    const data = marker.details?.['patch-data']?.payloads?.[0]?.data;
    found.push({ task, marker: data ? (JSON.parse(Buffer.from(data).toString()) as { id: string }).id : '?' });
  }
  return found;
}

describe('every behaviour change is decided in the first workflow task', () => {
  // Between them these take every later change: the alert and the judged resolution, the approval
  // request's scheduled deadline and a refusal.
  for (const name of ['resolved-manually', 'approved-after-refusal']) {
    test(`${name}: every patch marker of a new run is in its first workflow task`, async (t) => {
      const scenario = SCENARIOS.find((s) => s.name === name)!;
      const harness = await startWrit(t, scenario.options);
      const { operationId, handle } = await harness.writ.start({ ...scenario.request, operationId: `patches-${name}` });
      await scenario.drive?.(harness, operationId);
      assert.equal((await harness.writ.result(operationId)).outcome, scenario.outcome);
      const markers = patchMarkers(await handle.fetchHistory());
      assert.ok(
        markers.some((m) => m.marker === SEARCH_ATTRIBUTES_AT_WAITS),
        `the run records its decision: ${JSON.stringify(markers)}`,
      );
      assert.deepEqual(
        markers.filter((m) => m.task !== 1),
        [],
        `markers: ${JSON.stringify(markers)}`,
      );
    });
  }
});
