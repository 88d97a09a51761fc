import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BundleFindingCode } from '../../src/verify/bundle/findings.js';
import type { ParsedRecord } from '../../src/verify/bundle/parse.js';
import { parseRecords } from '../../src/verify/bundle/records.js';
import { GENESIS_HASH, chainHash } from '../../src/verify/hash.js';

const CHAIN = 'c1';
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** records.jsonl of these canonical bytes, correctly chained, so that only the bytes themselves can be at fault. */
function recordsJsonl(canonicals: Buffer[]): Buffer {
  let prevHash: Buffer = GENESIS_HASH;
  const lines = canonicals.map((canonical, i) => {
    const hash = chainHash(prevHash, canonical);
    const line = JSON.stringify({
      seq: i + 1,
      chain: CHAIN,
      canonical: canonical.toString('base64'),
      prevHash: prevHash.toString('hex'),
      hash: hash.toString('hex'),
    });
    prevHash = hash;
    return `${line}\n`;
  });
  return Buffer.from(lines.join(''), 'utf8');
}

function findingsOf(canonicals: Buffer[]): {
  findings: Array<{ code: BundleFindingCode; problem: string; seq?: number }>;
  records: ParsedRecord[];
} {
  const findings: Array<{ code: BundleFindingCode; problem: string; seq?: number }> = [];
  const records: ParsedRecord[] = [];
  parseRecords(recordsJsonl(canonicals), CHAIN, records, (code, problem, seq) =>
    findings.push({ code, problem, ...(seq === undefined ? {} : { seq }) }),
  );
  return { findings, records };
}

const good = (extra = ''): Buffer => Buffer.from(`{"chain":"${CHAIN}",${extra}"v":1}`, 'utf8');

describe("a bundle record's canonical bytes", () => {
  test('canonical UTF-8, U+FFFD written as itself included, passes with its fields read', () => {
    const { findings, records } = findingsOf([good(), good('"note":"\uFFFD",')]);
    assert.deepEqual(findings, []);
    assert.deepEqual(
      records.map((r) => r.record),
      [
        { chain: CHAIN, v: 1 },
        { chain: CHAIN, note: '\uFFFD', v: 1 },
      ],
    );
  });

  test('a byte order mark before the JSON is not canonical, though the record still reads', () => {
    const { findings, records } = findingsOf([good(), Buffer.concat([BOM, good()])]);
    assert.deepEqual(
      findings.map((f) => [f.code, f.seq]),
      [['NOT_CANONICAL', 2]],
    );
    assert.match(findings[0]!.problem, /not_canonical/);
    assert.deepEqual(records[1]!.record, { chain: CHAIN, v: 1 });
  });

  test('bytes that are not UTF-8 are named as such, not as a canonical-form problem', () => {
    const invalid = Buffer.concat([
      Buffer.from(`{"chain":"${CHAIN}","note":"`),
      Buffer.from([0xff]),
      Buffer.from('","v":1}'),
    ]);
    const { findings, records } = findingsOf([good(), invalid]);
    assert.deepEqual(
      findings.map((f) => [f.code, f.seq, f.problem]),
      [['RECORD_MALFORMED', 2, 'the canonical bytes are not a UTF-8 JSON object']],
    );
    assert.equal(records[1]!.record, null);
  });

  test('a key given twice is not canonical, named with the key', () => {
    const { findings } = findingsOf([Buffer.from(`{"chain":"${CHAIN}","v":1,"v":1}`, 'utf8')]);
    assert.deepEqual(
      findings.map((f) => [f.code, f.seq]),
      [['NOT_CANONICAL', 1]],
    );
    assert.match(findings[0]!.problem, /duplicate key "v"/);
  });
});
