import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { chainRouter, hashedChain, hashedChains } from '../../src/ledger/chain-router.js';
import { hasCode } from '../../src/model/errors.js';

describe('the chain router (WRIT_CHAINS)', () => {
  test('unset or single puts every record on chain main, so an existing ledger is unchanged', () => {
    for (const spec of [undefined, '', 'single', ' single ']) {
      const router = chainRouter(spec, 'default');
      assert.equal(router.spec, 'single');
      assert.equal(router.home, 'main');
      assert.equal(router.chainFor('op-anything'), 'main');
    }
  });

  test('namespace gives each Temporal namespace (each tenant) its own chain, for operations and everything else', () => {
    const router = chainRouter('namespace', 'acme-prod');
    assert.equal(router.home, 'acme-prod');
    assert.equal(router.chainFor('op-1'), 'acme-prod');
    assert.equal(chainRouter('namespace', 'globex').chainFor('op-1'), 'globex');
  });

  test('hash:<n> spreads operations over op-0 .. op-<n-1> by SHA-256 of the id, the same answer in every process', () => {
    const router = chainRouter('hash:4', 'default');
    assert.equal(router.spec, 'hash:4');
    assert.equal(router.home, 'main');
    // SHA-256("op-1") starts 71a0ef71: 1906372465 mod 4 = 1; a fixed vector, not a call to the code under test.
    assert.equal(router.chainFor('op-1'), 'op-1');
    assert.equal(chainRouter('hash:7', '').chainFor('op-1'), `op-${0x71a0ef71 % 7}`);
    const counts = new Map<string, number>();
    for (let i = 0; i < 4000; i++) {
      const chain = router.chainFor(`operation-${i}`);
      assert.equal(chain, router.chainFor(`operation-${i}`));
      counts.set(chain, (counts.get(chain) ?? 0) + 1);
    }
    assert.deepEqual([...counts.keys()].sort(), hashedChains(4));
    for (const [chain, count] of counts) assert.ok(count > 850 && count < 1150, `${chain} got ${count} of 4000`);
    assert.equal(hashedChain('x', 1), 'op-0');
    assert.equal(chainRouter('hash:64', '').chainFor('z').startsWith('op-'), true);
  });

  test('a bad setting is a configuration error (exit 2) that says what was wrong and what to set', () => {
    for (const [spec, namespace, words] of [
      ['hash:0', 'default', /hash:0 is out of range: n must be 1 to 64/],
      ['hash:65', 'default', /hash:65 is out of range/],
      ['hash:', 'default', /"hash:" is not single, namespace or hash:<n>/],
      ['hash:four', 'default', /is not single, namespace or hash/],
      ['tenant', 'default', /"tenant" is not single, namespace or hash:<n>/],
      ['namespace', 'Acme Prod', /"Acme Prod" is not a chain id/],
    ] as const) {
      assert.throws(
        () => chainRouter(spec, namespace),
        (error: unknown) => {
          assert.ok(hasCode(error, 'CONFIG'), String(error));
          assert.match((error as Error).message, /^WRIT_CHAINS: /);
          assert.match((error as Error).message, words);
          assert.match((error as { hint?: string }).hint ?? '', /single .* namespace .* hash:<n>/);
          return true;
        },
      );
    }
  });
});
