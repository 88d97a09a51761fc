import { createHash } from 'node:crypto';
import { canonicalBytes } from './canonical.js';

/**
 * A personal value never enters hashed bytes: the record holds `{"writ:sealed": <commitment>}` in
 * its place, and the value with its salt lives outside the ledger, where it can be erased. The
 * commitment is SHA-256 over the RFC 8785 bytes of `["writ.sealed.v1", salt, pointer, value]`:
 * the first element separates this use of SHA-256 from every other, the salt (at least 128 bits,
 * base64url) makes a guessed value impossible to confirm once the salt is gone, and the pointer
 * (RFC 6901, within the payload) binds the value to its place, so a disclosure cannot be moved.
 */
export const SEALED_MARKER = 'writ:sealed';
export const SEALED_DOMAIN = 'writ.sealed.v1';
export const MIN_SALT_BYTES = 16;

export function sealedCommitment(salt: string, pointer: string, value: unknown): string {
  return createHash('sha256')
    .update(canonicalBytes([SEALED_DOMAIN, salt, pointer, value]))
    .digest('hex');
}

/** The commitment a marker stands for, or null when the value is not a marker. */
export function sealedMarkerOf(value: unknown): string | null {
  if (!value || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, SEALED_MARKER)) return null;
  const members = Object.keys(value);
  if (members.length !== 1 || members[0] !== SEALED_MARKER) return null;
  const commitment = (value as Record<string, unknown>)[SEALED_MARKER];
  return typeof commitment === 'string' && /^[0-9a-f]{64}$/.test(commitment) ? commitment : null;
}

export function sealedMarker(commitment: string): Record<string, string> {
  return { [SEALED_MARKER]: commitment };
}

export interface SealedPlace {
  pointer: string;
  commitment: string;
}

/**
 * Every marker in a payload, with its RFC 6901 pointer, in document order. A pointer is spelled
 * only where a marker is found: a bundle's ten thousand payloads mostly hold none, and spelling
 * one for every member was a tenth of its verification.
 */
export function sealedPlaces(value: unknown, pointer = ''): SealedPlace[] {
  const places: SealedPlace[] = [];
  // Array places stay numbers until a pointer is spelled: a pair for every member of every payload
  // was about 9 MB of garbage in each export and verification of a 1,000-operation trace.
  const path: Array<string | number> = [];
  const walk = (inner: unknown): void => {
    if (!inner || typeof inner !== 'object') return;
    const commitment = sealedMarkerOf(inner);
    if (commitment) {
      places.push({ pointer: pointer + path.map((name) => `/${escapePointer(String(name))}`).join(''), commitment });
      return;
    }
    if (Array.isArray(inner)) {
      for (let index = 0; index < inner.length; index++) {
        path.push(index);
        walk(inner[index]);
        path.pop();
      }
      return;
    }
    for (const name of Object.keys(inner)) {
      path.push(name);
      walk((inner as Record<string, unknown>)[name]);
      path.pop();
    }
  };
  walk(value);
  return places;
}

/** Whether any object in the value uses the marker's member name (only Writ's sealer may). */
export function usesSealedMarker(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(usesSealedMarker);
  if (value && typeof value === 'object')
    return Object.entries(value).some(([name, inner]) => name === SEALED_MARKER || usesSealedMarker(inner));
  return false;
}

export function escapePointer(name: string): string {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** The member names an RFC 6901 pointer walks through, unescaped. */
export function pointerParts(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** A disclosure checks when its salt, pointer and value hash to the commitment the record holds. */
export function disclosureMatches(
  disclosure: { salt: string; pointer: string; value: unknown },
  commitment: string,
): boolean {
  if (Buffer.from(disclosure.salt, 'base64url').length < MIN_SALT_BYTES) return false;
  try {
    return sealedCommitment(disclosure.salt, disclosure.pointer, disclosure.value) === commitment;
  } catch {
    return false;
  }
}
