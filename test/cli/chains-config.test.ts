import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runWrit } from '../support/cli.js';

describe('WRIT_CHAINS is checked when a command starts', () => {
  test('a bad value stops writ worker, writ record and writ serve with exit 2 and says what to set, before anything is written', async () => {
    // An address nothing listens on: the commands must stop on the setting, before they connect.
    const env = {
      WRIT_CHAINS: 'hash:99',
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      WRIT_LINK_SECRET: 'x'.repeat(32),
    };
    for (const args of [
      ['worker'],
      ['record', '--type', 'note', '--actor', 'alice', '--message', 'hello'],
      ['serve', '--port', '0'],
    ]) {
      const result = await runWrit(args, { env });
      assert.equal(result.code, 2, `${args[0]}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, /WRIT_CHAINS: hash:99 is out of range: n must be 1 to 64/, args[0]);
      assert.match(result.stderr, /Set WRIT_CHAINS to single .* namespace .* hash:<n>/, args[0]);
    }
  });
});
