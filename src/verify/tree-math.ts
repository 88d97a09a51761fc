/**
 * Index arithmetic for RFC 9162 trees. Sizes and indices are JavaScript numbers, exact up to
 * 2^53 - 1, so nothing here uses the 32-bit bitwise operators: a ledger past four billion records
 * must not silently wrap.
 */

/** A leaf count or leaf index this code can represent exactly. Untrusted values are checked with it. */
export function isTreeSize(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** LSB(n) of RFC 9162. */
export function isOdd(n: number): boolean {
  return n % 2 === 1;
}

/** A right shift by one. */
export function half(n: number): number {
  return Math.floor(n / 2);
}

export function isPowerOfTwo(n: number): boolean {
  if (n < 1) return false;
  let p = 1;
  while (p < n) p *= 2;
  return p === n;
}

/** The k of RFC 9162 §2.1.1: the largest power of two smaller than n (n >= 2). */
export function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
