import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import { canonicalText } from '../../src/verify/canonical.js';
import { verifyChain } from '../../src/verify/chain.js';
import { freshLedger } from '../support/db.js';
import { note, storedRows } from '../support/records.js';

/** Rebuilds a JSON value with every object's keys in a different order. */
function reorderKeys(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((inner) => reorderKeys(inner, seed));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value).map(([key, inner]) => [key, reorderKeys(inner, seed)] as const);
  const rotated = entries.length
    ? [...entries.slice(seed % entries.length), ...entries.slice(0, seed % entries.length)].reverse()
    : entries;
  return Object.fromEntries(rotated);
}

describe('canonical JSON (RFC 8785)', () => {
  test('is invariant under key order and whitespace', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(), fc.integer({ min: 0, max: 8 }), (value, seed, indent) => {
        const reformatted = JSON.parse(JSON.stringify(reorderKeys(value, seed), null, indent));
        assert.equal(canonicalText(reformatted), canonicalText(value));
      }),
      { numRuns: 2000 },
    );
  });

  test('round-trips to the same value and is a fixed point', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalText(value);
        assert.deepStrictEqual(JSON.parse(text), JSON.parse(JSON.stringify(value)));
        assert.equal(canonicalText(JSON.parse(text)), text);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('when any single byte of a stored row changes', () => {
  test('the verifier names that record', async (t) => {
    const { pool } = await freshLedger(t);
    const appender = new GroupCommitAppender(pool);
    await appender.appendAll(
      Array.from({ length: 25 }, (_, i) =>
        note(i, { payload: { i, text: `é ${'x'.repeat(i)}`, nested: { list: [i, true, null] } } }),
      ),
    );
    const rows = await storedRows(pool);
    assert.equal(verifyChain('main', rows).ok, true);

    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: rows.length - 1 }),
        fc.constantFrom('canonical', 'hash', 'prevHash'),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (index, field, offset, flip) => {
          const row = rows[index]!;
          const bytes = Buffer.from(row[field as 'canonical' | 'hash' | 'prevHash']);
          bytes[offset % bytes.length]! ^= flip;
          const mutated = rows.map((r, i) => (i === index ? { ...r, [field]: bytes } : r));
          const verdict = verifyChain('main', mutated);
          assert.equal(verdict.ok, false);
          assert.equal(verdict.damage?.seq, row.seq, `${field} byte ${offset % bytes.length} of record ${row.seq}`);
        },
      ),
      { numRuns: 3000 },
    );
  });

  test('a changed value in the stored jsonb copy is named as a payload mismatch', async (t) => {
    const { pool } = await freshLedger(t);
    await new GroupCommitAppender(pool).appendAll(Array.from({ length: 10 }, (_, i) => note(i)));
    const rows = await storedRows(pool);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: rows.length - 1 }), fc.jsonValue(), (index, replacement) => {
        const row = rows[index]!;
        const record = row.record as { payload: Record<string, unknown> };
        fc.pre(canonicalText(replacement) !== canonicalText(record.payload.message));
        const edited = { ...record, payload: { ...record.payload, message: replacement } };
        const verdict = verifyChain(
          'main',
          rows.map((r, i) => (i === index ? { ...r, record: edited } : r)),
        );
        assert.equal(verdict.damage?.seq, row.seq);
        assert.equal(verdict.damage?.kind, 'payload_mismatch');
      }),
      { numRuns: 500 },
    );
  });
});
