import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { prepareRecord } from '../../src/ledger/record.js';
import { GENESIS_HASH, chainHash } from '../../src/verify/hash.js';
import type { LedgerRow } from '../../src/verify/chain.js';
import { ChainVerifier, verifyChain } from '../../src/verify/chain.js';
import { note } from '../support/records.js';

/** Builds rows exactly as the database trigger would, without a database: the verifier needs nothing else. */
function chainOf(count: number): LedgerRow[] {
  const rows: LedgerRow[] = [];
  let prev: Buffer = GENESIS_HASH;
  for (let seq = 1; seq <= count; seq++) {
    const { record, canonical } = prepareRecord(note(seq));
    const hash = chainHash(prev, canonical);
    rows.push({ chainId: 'main', seq, canonical, record: JSON.parse(JSON.stringify(record)), prevHash: prev, hash });
    prev = hash;
  }
  return rows;
}

describe('the chain verifier, given rows alone', () => {
  test('accepts an intact chain and reports its head', () => {
    const rows = chainOf(5);
    const verdict = verifyChain('main', rows);
    assert.equal(verdict.ok, true);
    assert.equal(verdict.records, 5);
    assert.equal(verdict.head?.seq, 5);
    assert.deepEqual(verdict.head?.hash, rows[4]!.hash);
  });

  test('names rows delivered out of order', () => {
    const rows = chainOf(5);
    const verdict = verifyChain('main', [rows[0]!, rows[1]!, rows[3]!, rows[2]!, rows[4]!]);
    assert.equal(verdict.damage?.code, 'RECORD_MISSING');
    assert.equal(verdict.damage?.seq, 3);
    const repeated = verifyChain('main', [rows[0]!, rows[1]!, rows[1]!]);
    assert.equal(repeated.damage?.code, 'RECORD_OUT_OF_ORDER');
    assert.equal(repeated.damage?.seq, 2);
  });

  test('names a missing first record as a gap at 1', () => {
    const verdict = verifyChain('main', chainOf(3).slice(1));
    assert.equal(verdict.damage?.code, 'RECORD_MISSING');
    assert.equal(verdict.damage?.seq, 1);
  });

  test('refuses a record whose bytes hash correctly but are not canonical JSON', () => {
    const rows = chainOf(2);
    const loose = Buffer.from(JSON.stringify(rows[1]!.record, null, 1));
    rows[1] = { ...rows[1]!, canonical: loose, hash: chainHash(rows[1]!.prevHash, loose) };
    const verdict = verifyChain('main', rows);
    assert.equal(verdict.damage?.code, 'NOT_CANONICAL');
    assert.equal(verdict.damage?.seq, 2);
  });

  test('resumes from a verified head without re-reading what came before', () => {
    const rows = chainOf(6);
    const verifier = new ChainVerifier('main', { seq: 3, hash: Buffer.from(rows[2]!.hash) });
    for (const row of rows.slice(3)) assert.equal(verifier.push(row), null);
    assert.equal(verifier.verdict().head?.seq, 6);
  });
});
