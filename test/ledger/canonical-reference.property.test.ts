import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { canonicalText } from '../../src/verify/canonical.js';

/**
 * Writ's canonical JSON must be RFC 8785 byte for byte, or hashes made by Writ and by any other
 * JCS implementation disagree. The reference here is `canonicalize`, by the RFC's co-author.
 */
function sameAsReference(value: unknown): void {
  assert.equal(canonicalText(value), canonicalize(value));
}

// Keys and strings over all of Unicode (surrogate pairs, controls, line separators), numbers over
// all of double precision, including the exponent forms RFC 8785 section 3.2.2.3 fixes.
const anyString = fc.string({ unit: 'binary' });
const anyNumber = fc.double({ noNaN: true, noDefaultInfinity: true });
const jsonLike = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    anyNumber,
    anyString,
    fc.array(tie('value')),
    fc.dictionary(anyString, tie('value')),
  ),
})).value;

describe('canonical JSON against the RFC 8785 reference implementation', () => {
  test('writes the same text for any JSON value', () => {
    fc.assert(fc.property(jsonLike, sameAsReference), { numRuns: 5000 });
  });

  test('writes the same text for the RFC appendix examples and number edge cases', () => {
    sameAsReference({
      numbers: [333333333.33333329, 1e30, 4.5, 2e-3, 0.000000000000000000000000001, -0, 5e-324, 1.7976931348623157e308],
      string: '\u20ac$\u000F\u000aA\'\u0042\u0022\u005c\\"/',
      literals: [null, true, false],
    });
    sameAsReference({
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    });
    sameAsReference({ a: undefined, b: [undefined, 1], c: new Date(0) });
  });

  test('refuses what RFC 8785 cannot represent, as the reference does', () => {
    for (const bad of ['\ud800', { key: 'x\udc00y' }, { ['\udbff']: 1 }, ['\\\ud800'], Number.NaN, { n: Infinity }]) {
      assert.throws(() => canonicalize(bad), Error, `the reference accepted ${String(bad)}`);
      assert.throws(() => canonicalText(bad), Error, `Writ accepted ${String(bad)}`);
    }
    // A backslash followed by the letters of an escape is text, not a surrogate.
    sameAsReference({ escaped: '\\ud800 and \\\\udc00' });
  });
});
