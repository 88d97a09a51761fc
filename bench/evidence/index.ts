/**
 * `npm run bench -- evidence [--records <n>] [--rebuild] [--sealed]`: P3 (what-happened latency) and P5
 * (bundle export and offline verification, proof size) on a ledger of n records (default
 * 1,000,000), built once through the real append path and cached as a template database.
 * `--sealed` builds it with the accounts' names, tiers and balances sealed as personal values.
 */
import { createPool } from '../../src/db/pool.js';
import { log } from '../support.js';
import { withEvidenceFixture } from './fixture.js';
import { benchWhatHappened } from './p3.js';
import { benchBundles } from './p5.js';

export interface EvidenceOptions {
  records?: number;
  rebuild?: boolean;
  sealed?: boolean;
}

export async function benchEvidence(options: EvidenceOptions = {}): Promise<Record<string, number>> {
  const records = options.records ?? 1_000_000;
  const sealed = options.sealed ?? false;
  return withEvidenceFixture({ records, rebuild: options.rebuild ?? false, sealed }, async (fixture) => {
    log(
      `evidence: ${records.toLocaleString('en')} records, ${fixture.operations.toLocaleString('en')} operations, ${fixture.sharedTraces.toLocaleString('en')} trace ids shared by ${fixture.operationsInSharedTraces.toLocaleString('en')} of them`,
    );
    // One connection: latency is measured one query at a time, as one person asking would.
    const pool = createPool(fixture.url, { max: 1, applicationName: 'writ-bench' });
    try {
      const p3 = await benchWhatHappened(pool, records);
      const p5 = await benchBundles(pool, fixture);
      return {
        records,
        sealed: sealed ? 1 : 0,
        operations: fixture.operations,
        ...(fixture.buildSeconds === null ? {} : { fixture_build_s: Math.round(fixture.buildSeconds) }),
        fixture_copy_s: Math.round(fixture.copySeconds * 10) / 10,
        ...p3,
        ...p5,
      };
    } finally {
      await pool.end();
    }
  });
}
