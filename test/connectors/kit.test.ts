import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { runCommand } from '../support/cli.js';

const fixture = fileURLToPath(new URL('../fixtures/broken-connectors.js', import.meta.url));

test('the conformance kit catches each kind of broken connector', async () => {
  // A child of a test runner inherits NODE_TEST_CONTEXT and would report to us instead of printing.
  const result = await runCommand(process.execPath, ['--test', '--test-reporter=tap', fixture], {
    env: { NODE_TEST_CONTEXT: undefined },
  });
  assert.notEqual(result.code, 0, 'the broken connectors fail the kit');
  const failed = new Set<string>();
  let suite = '';
  for (const line of result.stdout.split('\n')) {
    const suiteMatch = /^# Subtest: conformance: (.+)\.set$/.exec(line);
    if (suiteMatch) suite = suiteMatch[1]!;
    const failure = /^\s+not ok \d+ - (.+)$/.exec(line);
    if (failure && suite) failed.add(`${suite}: ${failure[1]}`);
  }
  const expected = [
    'repeats-writes: executing twice with one idempotency key has one effect',
    'fake-rollback: rollback restores the exact before state, or sends the compensating action',
    'writing-preview: a dry run leaves the real target untouched',
    'blind-verify: verify catches drift when the target changes between execute and verify',
    'echo-verify: verify fails when the target stores something other than what was asked',
    'lax-params: refuses bad params with a message naming the field',
    'vague-contract: declares a complete rollback contract',
  ];
  for (const failure of expected)
    assert.ok(failed.has(failure), `the kit reports "${failure}"; it reported: ${[...failed].join(' | ')}`);
});
