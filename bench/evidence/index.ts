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
import { benchWhatHappenedHttp } from './p3-http.js';
import { benchBundles } from './p5.js';
import { benchCorrelationBundle } from './p5-correlation.js';

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
      `evidence: ${records.toLocaleString('en')} records, ${fixture.operations.toLocaleString('en')} operations, ${fixture.sharedTraces.toLocaleString('en')} trace ids shared by ${fixture.operationsInSharedTraces.toLocaleString('en')} of them, one (${fixture.largeTrace.id}) by ${fixture.largeTrace.operations.toLocaleString('en')}`,
    );
    // One connection: latency is measured one query at a time, as one person asking would.
    const pool = createPool(fixture.url, { max: 1, applicationName: 'writ-bench' });
    try {
      const p3 = await benchWhatHappened(pool, records, [fixture.largeTrace.id]);
      const p5 = await benchBundles(pool, fixture);
      const p5Correlation = await benchCorrelationBundle(pool, fixture);
      // Last: writ serve appends an access record per answer, and the bundles above must find the
      // ledger exactly as the fixture's checkpoint covers it.
      const p3Http = await benchWhatHappenedHttp(pool, fixture);
      return {
        records,
        sealed: sealed ? 1 : 0,
        operations: fixture.operations,
        ...(fixture.buildSeconds === null ? {} : { fixture_build_s: Math.round(fixture.buildSeconds) }),
        fixture_copy_s: Math.round(fixture.copySeconds * 10) / 10,
        ...p3,
        ...p3Http,
        ...p5,
        ...p5Correlation,
      };
    } finally {
      await pool.end();
    }
  });
}
