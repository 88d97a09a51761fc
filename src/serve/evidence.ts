export { findEvidence } from '../evidence/what-happened/index.js';
export type { Evidence, EvidenceLookup } from '../evidence/what-happened/index.js';

/** Operation ids are at most 256 characters (the record schema's limit); correlation ids are 32. */
export const MAX_ID_LENGTH = 256;

export function idProblem(id: string): string | null {
  if (!id) return 'no id given: name an operationId or a correlation id';
  if (id.length > MAX_ID_LENGTH) return `an id is at most ${MAX_ID_LENGTH} characters; this one has ${id.length}`;
  return null;
}
