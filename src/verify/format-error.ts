/**
 * Text that claims to be evidence (a note, a checkpoint, a verifier key) but is not in its
 * format. Parsers throw it; verifiers turn it into a verdict with the same code, so callers of
 * either branch on `code`.
 */
export class EvidenceFormatError extends Error {
  override readonly name = 'EvidenceFormatError';
  readonly code = 'MALFORMED';
}
