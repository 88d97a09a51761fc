/**
 * Records the histories replayed by replay.test.ts: `npm run record-histories`. Run it after a
 * deliberate workflow change (guarded with `patched()`), and commit the new files beside the old.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import proto from '@temporalio/proto';

const { temporal } = proto;
import { startWrit } from '../support/writ.js';
import { SCENARIOS } from './scenarios.js';

const target = fileURLToPath(new URL('../../../test/replay/histories/', import.meta.url));
const version = process.env.WRIT_HISTORY_TAG ?? 'v1';

for (const scenario of SCENARIOS) {
  test(`record ${scenario.name}`, async (t) => {
    const harness = await startWrit(t, scenario.options);
    const { operationId, handle } = await harness.writ.start({
      ...scenario.request,
      operationId: `replay-${scenario.name}`,
    });
    await scenario.drive?.(harness, operationId);
    assert.equal((await harness.writ.result(operationId)).outcome, scenario.outcome);
    // The binary protobuf encoding: exactly what the server sent, with nothing lost in a JSON mapping.
    writeFileSync(
      `${target}${version}-${scenario.name}.history.bin`,
      temporal.api.history.v1.History.encode(await handle.fetchHistory()).finish(),
    );
  });
}
