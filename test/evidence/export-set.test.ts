import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ExportMember } from '../../src/verify/bundle/export-set.js';
import { exportSetFindings, loneBundleFindings } from '../../src/verify/bundle/export-set.js';

const ONE = '0123456789abcdef0123456789abcdef';
const OTHER = 'fedcba9876543210fedcba9876543210';

function member(chain: string, id: string | null, chains: string[] = ['a', 'b', 'c']): ExportMember {
  return { chain, export: id === null ? null : { id, chains } };
}

function codes(members: ExportMember[]): string[][] {
  return exportSetFindings(members).findings.map((found) => found.map((f) => f.code));
}

describe('the bundles of one export, checked together', () => {
  test('all of them, each once: nothing found', () => {
    const whole = [member('a', ONE), member('b', ONE), member('c', ONE)];
    assert.deepEqual(codes(whole), [[], [], []]);
    assert.equal(exportSetFindings(whole).warning, undefined);
  });

  test('a chain missing is named on every bundle of the export', () => {
    const found = exportSetFindings([member('a', ONE), member('c', ONE)]).findings;
    assert.deepEqual(
      found.map((f) => f.map((x) => x.code)),
      [['EXPORT_INCOMPLETE'], ['EXPORT_INCOMPLETE']],
    );
    assert.match(found[0]![0]!.problem, /chains a, b, c; b not among those given/);
  });

  test('a bundle of another export, or of none, is mixed in; so is a chain given twice', () => {
    assert.deepEqual(codes([member('a', ONE), member('b', OTHER), member('c', ONE)]), [[], ['EXPORT_MIXED'], []]);
    // The stranger is the one named, even when its chain sorts first.
    assert.deepEqual(codes([member('a', OTHER), member('b', ONE), member('c', ONE)]), [['EXPORT_MIXED'], [], []]);
    assert.deepEqual(codes([member('a', ONE), member('b', null), member('c', ONE)]), [[], ['EXPORT_MIXED'], []]);
    assert.deepEqual(codes([member('a', ONE), member('b', ONE), member('b', ONE), member('c', ONE)]), [
      [],
      [],
      ['EXPORT_MIXED'],
      [],
    ]);
    // The same id with another list of chains can only be a forgery by the key's holder; still not one export.
    assert.deepEqual(codes([member('a', ONE), member('b', ONE, ['a', 'b'])]), [
      ['EXPORT_INCOMPLETE'],
      ['EXPORT_MIXED', 'EXPORT_INCOMPLETE'],
    ]);
  });

  test('bundles that name no export are checked each on its own, with a warning that a chain could be missing', () => {
    const old = exportSetFindings([member('a', null), member('b', null)]);
    assert.deepEqual(old.findings, [[], []]);
    assert.match(old.warning ?? '', /nothing shows whether a chain was left out/);
  });

  test('a lone bundle must be its whole export', () => {
    assert.deepEqual(loneBundleFindings(member('a', ONE, ['a'])), []);
    assert.deepEqual(loneBundleFindings(member('a', null)), []);
    const [found] = loneBundleFindings(member('b', ONE));
    assert.equal(found?.code, 'EXPORT_INCOMPLETE');
    assert.match(found?.problem ?? '', /one of 3 .* \(chains a, b, c\); a, c not given/);
  });
});
