import crypto from 'node:crypto';

/**
 * Compares a computed MAC with the one a request carried. Both sides are hashed first so the
 * comparison is of two 32-byte digests: it takes the same time whatever the given value's length
 * or content, and an attacker learns nothing about how much of a guess was right. Called through
 * the module object (not a named import) so a test can confirm every check goes through
 * timingSafeEqual.
 */
export function sameSecret(expected: string, given: string): boolean {
  const a = crypto.createHash('sha256').update(expected, 'utf8').digest();
  const b = crypto.createHash('sha256').update(given, 'utf8').digest();
  return crypto.timingSafeEqual(a, b);
}
