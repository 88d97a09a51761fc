import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { recordsJsonl } from '../../src/evidence/bundle/records-jsonl.js';
import type { BundleRecord } from '../../src/evidence/bundle/select.js';

/** The line as docs/FORMAT.md gives it: JSON.stringify of the five members, in this order. */
function referenceLine(r: BundleRecord): string {
  const line = {
    seq: r.seq,
    chain: r.chain,
    canonical: r.canonical.toString('base64'),
    prevHash: r.prevHash.toString('hex'),
    hash: r.hash.toString('hex'),
  };
  return `${JSON.stringify(line)}\n`;
}

const hash = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => Buffer.from(bytes));
const record = fc.record({
  seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  // Chains that need escaping, and that are not ASCII, are where a hand-written line could go wrong.
  chain: fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('default', 'a"b\\c\n', 'é€😀', '\u2028')),
  canonical: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  prevHash: hash,
  hash,
});

describe('records.jsonl', () => {
  test('is byte for byte the lines JSON.stringify gives, for any chain name and any bytes', () => {
    fc.assert(
      fc.property(fc.array(record, { maxLength: 20 }), (records) => {
        const expected = Buffer.from(records.map((r) => referenceLine(r as BundleRecord)).join(''), 'utf8');
        assert.deepEqual(recordsJsonl(records as BundleRecord[]), expected);
      }),
      { numRuns: 2000 },
    );
  });
});
