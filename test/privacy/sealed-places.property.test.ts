import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { escapePointer, sealedMarker, sealedMarkerOf, sealedPlaces } from '../../src/verify/sealed.js';

/** The definition: every marker with its RFC 6901 pointer, found depth first in document order. */
function reference(value: unknown, pointer = ''): Array<{ pointer: string; commitment: string }> {
  const commitment = sealedMarkerOf(value);
  if (commitment) return [{ pointer, commitment }];
  if (Array.isArray(value)) return value.flatMap((inner, index) => reference(inner, `${pointer}/${index}`));
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([name, inner]) => reference(inner, `${pointer}/${escapePointer(name)}`));
  return [];
}

const commitment = fc.stringMatching(/^[0-9a-f]{64}$/);
/** JSON with markers, near-markers (a second member, a bad commitment) and names that need escaping. */
const payload = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.jsonValue({ maxDepth: 1 }),
    commitment.map(sealedMarker),
    commitment.map((c) => ({ ...sealedMarker(c), other: 1 })),
    fc.constant({ 'writ:sealed': 'not hex' }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom('a', 'b/c', 'd~e', '~1', 'writ:sealed', ''), tie('value'), { maxKeys: 4 }),
  ),
})).value;

describe('sealed places', () => {
  test('are every marker with its RFC 6901 pointer, in document order', () => {
    fc.assert(
      fc.property(payload, (value) => {
        assert.deepEqual(sealedPlaces(value), reference(value));
        assert.deepEqual(sealedPlaces(value, '/payload'), reference(value, '/payload'));
      }),
      { numRuns: 2000 },
    );
  });
});
