import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runWrit } from '../support/cli.js';

test('writ connectors prints the capability matrix as a table and as JSON', async () => {
  const text = await runWrit(['connectors']);
  assert.equal(text.code, 0, text.stderr);
  const lines = text.stdout.trim().split('\n');
  assert.match(
    lines[0]!,
    /^connector\s+action\s+dry run\s+side effects\s+rollback\s+window\s+configured\s+limitations$/,
  );
  assert.ok(
    lines.some((line) =>
      /^postgres\s+update\s+yes\s+none-on-dry-run\s+snapshot-restore\s+7d\s+yes\s+restores the whole row/.test(line),
    ),
  );
  assert.ok(lines.some((line) => /^webhook\s+notify\s+yes\s+none-on-dry-run\s+compensate\s+/.test(line)));

  const json = await runWrit(['connectors', '--json'], { env: { WRIT_FILES_ROOT: '/tmp' } });
  assert.equal(json.code, 0, json.stderr);
  const rows = JSON.parse(json.stdout) as Array<{
    connector: string;
    action: string;
    method: string;
    configured: boolean;
  }>;
  assert.deepEqual([...new Set(rows.map((r) => r.connector))], ['postgres', 'http', 'files', 'webhook']);
  assert.equal(rows.find((r) => r.connector === 'http' && r.action === 'patch')?.method, 'inverse');
  assert.equal(rows.find((r) => r.connector === 'files')?.configured, true);
  assert.equal(rows.find((r) => r.connector === 'http')?.configured, false);
});
