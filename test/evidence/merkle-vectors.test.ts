import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  EMPTY_ROOT,
  consistencyProof,
  inclusionProof,
  leafHash,
  rootOf,
  verifyConsistency,
  verifyInclusion,
} from '../../src/verify/merkle.js';

/**
 * The RFC 6962 / RFC 9162 test tree used by Certificate Transparency implementations. Every
 * value below is copied from github.com/transparency-dev/merkle, proof/verify_test.go (the Go
 * implementation behind Trillian and Tessera, same vectors as the CT C++ merkle tests); none is
 * derived here. Their inclusion vectors number leaves from 1; these are converted to 0-based.
 */
const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(
  (hex) => leafHash(Buffer.from(hex, 'hex')),
);

const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

const INCLUSION: Array<{ index: number; size: number; proof: string[] }> = [
  { index: 0, size: 1, proof: [] },
  {
    index: 0,
    size: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    index: 5,
    size: 8,
    proof: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  { index: 2, size: 3, proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  {
    index: 1,
    size: 5,
    proof: [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
];

const CONSISTENCY: Array<{ size1: number; size2: number; proof: string[] }> = [
  { size1: 1, size2: 1, proof: [] },
  {
    size1: 1,
    size2: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    size1: 6,
    size2: 8,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  {
    size1: 2,
    size2: 5,
    proof: [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
  {
    size1: 6,
    size2: 7,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
];

const hex = (hashes: Buffer[]): string[] => hashes.map((hash) => hash.toString('hex'));
const unhex = (hashes: string[]): Buffer[] => hashes.map((hash) => Buffer.from(hash, 'hex'));
const rootAt = (size: number): Buffer => Buffer.from(ROOTS[size - 1]!, 'hex');

describe('the RFC 6962 test tree', () => {
  test('the empty tree has the SHA-256 of the empty string as its root', () => {
    assert.equal(rootOf([]).toString('hex'), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    assert.deepEqual(rootOf([]), EMPTY_ROOT);
  });

  test('every prefix of the eight test leaves has the published root', () => {
    for (let size = 1; size <= LEAVES.length; size++) {
      assert.equal(rootOf(LEAVES.slice(0, size)).toString('hex'), ROOTS[size - 1], `root of ${size} leaves`);
    }
  });

  test('the published inclusion proofs are the ones built, and they verify', () => {
    for (const { index, size, proof } of INCLUSION) {
      assert.deepEqual(hex(inclusionProof(LEAVES.slice(0, size), index)), proof, `path of leaf ${index} in ${size}`);
      assert.equal(
        verifyInclusion(LEAVES[index]!, index, size, unhex(proof), rootAt(size)),
        true,
        `leaf ${index} in ${size}`,
      );
    }
  });

  test('the published consistency proofs are the ones built, and they verify', () => {
    for (const { size1, size2, proof } of CONSISTENCY) {
      assert.deepEqual(hex(consistencyProof(LEAVES.slice(0, size2), size1)), proof, `proof ${size1} -> ${size2}`);
      assert.equal(
        verifyConsistency(size1, size2, rootAt(size1), rootAt(size2), unhex(proof)),
        true,
        `${size1} -> ${size2}`,
      );
    }
  });

  test('each published inclusion proof fails once any part of the claim around it changes', () => {
    const someHash = Buffer.from('abacaba000000000000000000000000000000000000000000060061e00123456', 'hex');
    for (const { index, size, proof: proofHex } of INCLUSION) {
      const proof = unhex(proofHex);
      const leaf = LEAVES[index]!;
      const root = rootAt(size);
      const probes: Array<[string, boolean]> = [
        ['index - 1', verifyInclusion(leaf, index - 1, size, proof, root)],
        ['index + 1', verifyInclusion(leaf, index + 1, size, proof, root)],
        ['index ^ 2', verifyInclusion(leaf, index ^ 2, size, proof, root)],
        ['size * 2', verifyInclusion(leaf, index, size * 2, proof, root)],
        ['size / 2', verifyInclusion(leaf, index, Math.floor(size / 2), proof, root)],
        ['another leaf', verifyInclusion(LEAVES[(index + 1) % 8]!, index, size, proof, root)],
        ['empty-tree root', verifyInclusion(leaf, index, size, proof, EMPTY_ROOT)],
        ['some root', verifyInclusion(leaf, index, size, proof, someHash)],
        ['trailing root', verifyInclusion(leaf, index, size, [...proof, root], root)],
        ['preceding root', verifyInclusion(leaf, index, size, [root, ...proof], root)],
        ['trailing empty element', verifyInclusion(leaf, index, size, [...proof, Buffer.alloc(0)], root)],
      ];
      proof.forEach((_, i) => {
        const flipped = proof.map((element) => Buffer.from(element));
        flipped[i]![0]! ^= 8;
        probes.push([`proof[${i}] with bit 3 flipped`, verifyInclusion(leaf, index, size, flipped, root)]);
      });
      if (proof.length > 0)
        probes.push(['last element removed', verifyInclusion(leaf, index, size, proof.slice(0, -1), root)]);
      if (proof.length > 1)
        probes.push([
          'element inserted',
          verifyInclusion(leaf, index, size, [proof[0]!, someHash, ...proof.slice(1)], root),
        ]);
      const accepted = probes.filter(([, ok]) => ok).map(([what]) => what);
      assert.deepEqual(accepted, [], `leaf ${index} in ${size} was wrongly accepted with: ${accepted.join(', ')}`);
    }
  });

  test('each published consistency proof fails once any part of the claim around it changes', () => {
    for (const { size1, size2, proof: proofHex } of CONSISTENCY.filter((vector) => vector.proof.length > 0)) {
      const proof = unhex(proofHex);
      const root1 = rootAt(size1);
      const root2 = rootAt(size2);
      const probes: Array<[string, boolean]> = [
        ['size1 - 1', verifyConsistency(size1 - 1, size2, root1, root2, proof)],
        ['size1 + 1', verifyConsistency(size1 + 1, size2, root1, root2, proof)],
        ['size1 ^ 2', verifyConsistency(size1 ^ 2, size2, root1, root2, proof)],
        ['size2 * 2', verifyConsistency(size1, size2 * 2, root1, root2, proof)],
        ['size2 / 2', verifyConsistency(size1, Math.floor(size2 / 2), root1, root2, proof)],
        ['swapped roots', verifyConsistency(size1, size2, root2, root1, proof)],
        ['empty proof', verifyConsistency(size1, size2, root1, root2, [])],
        ['trailing root1', verifyConsistency(size1, size2, root1, root2, [...proof, root1])],
        ['trailing root2', verifyConsistency(size1, size2, root1, root2, [...proof, root2])],
        ['preceding root1', verifyConsistency(size1, size2, root1, root2, [root1, ...proof])],
        ['preceding root2', verifyConsistency(size1, size2, root1, root2, [root2, ...proof])],
        ['preceding proof[0]', verifyConsistency(size1, size2, root1, root2, [proof[0]!, ...proof])],
        ['truncated', verifyConsistency(size1, size2, root1, root2, proof.slice(0, -1))],
      ];
      proof.forEach((_, i) => {
        const flipped = proof.map((element) => Buffer.from(element));
        flipped[i]![0]! ^= 16;
        probes.push([`proof[${i}] with bit 4 flipped`, verifyConsistency(size1, size2, root1, root2, flipped)]);
      });
      const accepted = probes.filter(([, ok]) => ok).map(([what]) => what);
      assert.deepEqual(accepted, [], `${size1} -> ${size2} was wrongly accepted with: ${accepted.join(', ')}`);
    }
  });
});

describe('the cases RFC 9162 leaves to the verifier', () => {
  const root3 = rootAt(3);

  test('a tree is consistent with itself by an empty proof, and only by that', () => {
    assert.equal(verifyConsistency(3, 3, root3, root3, []), true);
    assert.equal(verifyConsistency(3, 3, root3, rootAt(4), []), false);
    assert.equal(verifyConsistency(3, 3, root3, root3, [root3]), false);
    assert.equal(verifyConsistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, []), true);
    assert.equal(verifyConsistency(0, 0, root3, root3, []), false, 'a tree of size 0 has one possible root');
  });

  test('the empty tree is consistent with any tree by an empty proof, if its root is the empty root', () => {
    assert.equal(verifyConsistency(0, 8, EMPTY_ROOT, rootAt(8), []), true);
    assert.equal(verifyConsistency(0, 8, rootAt(1), rootAt(8), []), false);
    assert.equal(verifyConsistency(0, 8, EMPTY_ROOT, rootAt(8), [EMPTY_ROOT]), false);
  });

  test('a power-of-two old tree is proven with its own root left out of the proof', () => {
    const proof = consistencyProof(LEAVES, 4);
    assert.deepEqual(proof, [rootOf(LEAVES.slice(4, 8))]);
    assert.equal(verifyConsistency(4, 8, rootAt(4), rootAt(8), proof), true);
    assert.equal(verifyConsistency(4, 8, rootAt(4), rootAt(8), [rootAt(4), ...proof]), false);
  });

  test('a tree never shrinks', () => {
    assert.equal(verifyConsistency(8, 6, rootAt(8), rootAt(6), consistencyProof(LEAVES, 6)), false);
  });

  test('sizes and indices that are not exact whole numbers are refused, not thrown on', () => {
    const proof = inclusionProof(LEAVES, 5);
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, '5' as unknown as number]) {
      assert.equal(verifyInclusion(LEAVES[5]!, bad, 8, proof, rootAt(8)), false, `index ${String(bad)}`);
      assert.equal(verifyInclusion(LEAVES[5]!, 5, bad, proof, rootAt(8)), false, `size ${String(bad)}`);
      assert.equal(
        verifyConsistency(bad, 8, rootAt(6), rootAt(8), consistencyProof(LEAVES, 6)),
        false,
        `size1 ${String(bad)}`,
      );
    }
    assert.equal(verifyInclusion(LEAVES[0]!, 0, 0, [], EMPTY_ROOT), false, 'no leaf is in the empty tree');
    assert.equal(verifyInclusion(LEAVES[5]!, 8, 8, proof, rootAt(8)), false, 'the index must be below the size');
  });

  test('proofs that are not lists of 32-byte values are refused, not thrown on', () => {
    const proof = inclusionProof(LEAVES, 5);
    const junk: unknown[] = [
      null,
      undefined,
      'abc',
      proof[0]!.toString('hex'),
      Buffer.alloc(31),
      Buffer.alloc(33),
      [1, 2, 3],
    ];
    for (const element of junk) {
      const bad = [...proof.slice(0, 2), element] as Buffer[];
      assert.equal(verifyInclusion(LEAVES[5]!, 5, 8, bad, rootAt(8)), false, `element ${String(element)}`);
      assert.equal(verifyConsistency(6, 8, rootAt(6), rootAt(8), bad), false, `element ${String(element)}`);
    }
    for (const notAList of [null, undefined, 'proof', { length: 3 }]) {
      assert.equal(verifyInclusion(LEAVES[5]!, 5, 8, notAList as unknown as Buffer[], rootAt(8)), false);
      assert.equal(verifyConsistency(6, 8, rootAt(6), rootAt(8), notAList as unknown as Buffer[]), false);
    }
    assert.equal(verifyInclusion(LEAVES[5]!.subarray(1), 5, 8, proof, rootAt(8)), false, 'a short leaf hash');
    assert.equal(verifyInclusion(LEAVES[5]!, 5, 8, proof, rootAt(8).subarray(1)), false, 'a short root');
  });
});
