/**
 * Who someone is, as one canonical string. Ids enter Writ in requests, approvals, rejections,
 * resolutions and the approver directory; each is canonicalised once, there, so that `"Bob "`,
 * `"BOB"` and full-width `"Ｂｏｂ"` are all the person `bob` and every later comparison is plain
 * string equality. Pure and deterministic: the workflow judges decisions with it.
 *
 * The canonical form (docs/FORMAT.md, "Identities"): Unicode NFKC, then leading and trailing white
 * space removed, then lower-cased (Unicode default case mapping). An id that is empty after that,
 * or holds a control, format, invisible or non-character code point, or white space other than
 * single spaces, is refused: such an id can look like another one on every screen an approver sees.
 */

export type CanonicalId = { ok: true; id: string } | { ok: false; problem: string };

// Default_Ignorable_Code_Point covers zero-width joiners, variation selectors, fillers and the like;
// the others are control (Cc), format (Cf), surrogate (Cs), private use (Co), unassigned (Cn) and
// line/paragraph separators; U+2800 is the blank braille pattern, which renders as nothing.
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\u2800]/u;
const ODD_SPACE = /[^\S ]| {2}/u;

export const MAX_ID_LENGTH = 256;

export function canonicalId(raw: unknown): CanonicalId {
  if (typeof raw !== 'string') return { ok: false, problem: 'an id must be a string' };
  const id = raw.normalize('NFKC').trim().toLowerCase();
  if (!id) return { ok: false, problem: 'the id is empty' };
  if (id.length > MAX_ID_LENGTH) return { ok: false, problem: `the id is longer than ${MAX_ID_LENGTH} characters` };
  const invisible = INVISIBLE.exec(id);
  if (invisible)
    return {
      ok: false,
      problem: `the id ${JSON.stringify(raw)} holds an invisible or control character (U+${invisible[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`,
    };
  if (ODD_SPACE.test(id))
    return { ok: false, problem: `the id ${JSON.stringify(raw)} holds white space other than single spaces` };
  return { ok: true, id };
}

/** True when both name the same person; an id that cannot be canonicalised names no one. */
export function sameIdentity(a: unknown, b: unknown): boolean {
  const left = canonicalId(a);
  const right = canonicalId(b);
  return left.ok && right.ok && left.id === right.id;
}
