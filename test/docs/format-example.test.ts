import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { canonicalText } from '../../src/verify/canonical.js';
import { GENESIS_HASH, chainHash } from '../../src/verify/hash.js';
import { recordDraftSchema } from '../../src/ledger/record.js';
import { REPO_ROOT } from '../support/cli.js';
import { leafHash, nodeHash } from '../../src/verify/merkle.js';
import { formatCheckpoint } from '../../src/verify/checkpoint.js';

test('the worked example in docs/FORMAT.md is what the code computes', () => {
  const doc = readFileSync(`${REPO_ROOT}/docs/FORMAT.md`, 'utf8');
  const section = doc.slice(doc.indexOf('## 5. Worked example'), doc.indexOf('## 6.'));
  const treeSection = doc.slice(doc.indexOf('## 6. Merkle tree'), doc.indexOf('## 8.'));
  const records = [...section.matchAll(/```json\n(.*)\n```/g)].map((match) => match[1]!);
  const hashes = [...section.matchAll(/`([0-9a-f]{64})`/g)].map((match) => match[1]!);
  assert.equal(records.length, 2);
  assert.equal(hashes.length, 2);
  assert.match(section, new RegExp(`one line, ${Buffer.byteLength(records[0]!)} bytes`));

  let prev: Buffer = GENESIS_HASH;
  records.forEach((text, index) => {
    const parsed = JSON.parse(text);
    assert.equal(canonicalText(parsed), text, `record ${index + 1} is printed in canonical form`);
    const { v: _v, eventId: _e, ...asDraft } = parsed;
    assert.equal(recordDraftSchema.safeParse(asDraft).success, true, `record ${index + 1} is a valid record`);
    prev = chainHash(prev, Buffer.from(text, 'utf8'));
    assert.equal(prev.toString('hex'), hashes[index]);
  });

  const leaves = records.map((text) => leafHash(Buffer.from(text, 'utf8')));
  const root = nodeHash(leaves[0]!, leaves[1]!);
  for (const hash of [...leaves, root])
    assert.ok(treeSection.includes(hash.toString('hex')), `FORMAT.md section 6 states ${hash.toString('hex')}`);
  assert.ok(
    treeSection.includes(formatCheckpoint({ origin: 'writ/main', size: 2, root })),
    'section 7 shows the checkpoint body of the same tree',
  );
});
