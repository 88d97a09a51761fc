import { WritError } from '../model/errors.js';

/**
 * Text that claims to be evidence (a note, a checkpoint, a verifier key) but is not in its
 * format. Parsers throw it; verifiers turn it into a MALFORMED verdict, so callers of either
 * branch on a code.
 */
export class EvidenceFormatError extends WritError {
  override readonly name = 'EvidenceFormatError';
  constructor(message: string) {
    super('EVIDENCE_MALFORMED', message);
  }
}
