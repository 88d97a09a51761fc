import type { CheckpointProblemCode } from '../audit.js';
import type { RecordProblem } from '../record-check.js';
import type { TimestampCheckCode } from '../timestamps.js';

/** Each thing the bundle verifier checks, as the code a finding carries: tools and tests branch on these. */
export type BundleFindingCode =
  // The bundle's files and their manifest.
  | 'FILE_MISSING'
  | 'FILE_UNLISTED'
  | 'FILE_DIGEST_MISMATCH'
  | 'KEY_MISSING'
  | 'KEY_INVALID'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_INCOMPLETE'
  | 'MANIFEST_DIGEST_MISMATCH'
  | 'MANIFEST_SIGNATURE_MALFORMED'
  | 'MANIFEST_UNKNOWN_KEY'
  | 'MANIFEST_SIGNATURE_INVALID'
  // The export a bundle belongs to: its sibling bundles given with it, and no others.
  | 'EXPORT_INCOMPLETE'
  | 'EXPORT_MIXED'
  // The checkpoint.
  | CheckpointProblemCode
  // The records: the same checks the ledger's chain verifier makes.
  | RecordProblem['code']
  | 'RECORD_MALFORMED'
  | 'RECORD_OUT_OF_ORDER'
  | 'ILLEGAL_PATH'
  // The inclusion proofs.
  | 'PROOFS_MALFORMED'
  | 'PROOFS_UNCHECKABLE'
  | 'PROOFS_CHECKPOINT_MISMATCH'
  | 'PROOFS_INCOMPLETE'
  | 'PROOF_MALFORMED'
  | 'RECORD_BEYOND_CHECKPOINT'
  | 'INCLUSION_PROOF_INVALID'
  // The signed statements.
  | 'STATEMENT_MISSING'
  | 'STATEMENT_MALFORMED'
  | 'STATEMENT_SIGNATURE_MISSING'
  | 'STATEMENT_SIGNATURE_INVALID'
  | 'STATEMENT_OPERATION_MISMATCH'
  | 'STATEMENT_SUBJECT_UNKNOWN'
  | 'STATEMENT_SUBJECT_MISSING'
  | 'STATEMENT_DIGEST_MISMATCH'
  // The governance the decisions name.
  | 'GOVERNANCE_REVISION_INVALID'
  | 'GOVERNANCE_MISSING'
  | 'GOVERNANCE_DIGEST_MISMATCH'
  | 'GOVERNANCE_NOT_RECORDED'
  | 'GOVERNANCE_MALFORMED'
  | 'GOVERNANCE_NOT_CANONICAL'
  | 'GOVERNANCE_MISMATCH'
  | 'GOVERNANCE_UNREFERENCED'
  // Signed approvals, rejections and resolutions.
  | 'DECISION_UNSIGNED'
  | 'DECISION_SIGNATURE_UNCHECKABLE'
  | 'APPROVER_KEY_NOT_PINNED'
  | 'DECISION_SIGNATURE_INVALID'
  | 'DECISION_KEY_MISMATCH'
  // Proofs of identity, re-checked offline.
  | 'IDENTITY_PROOF_MISSING'
  | 'IDENTITY_PROOF_INVALID'
  | 'IDENTITY_MISMATCH'
  | 'IDENTITY_UNCHECKABLE'
  | 'IDENTITY_KEY_INVALID'
  | 'IDENTITY_KEY_NOT_RECORDED'
  | 'CHANNEL_KEY_NOT_PINNED'
  | 'PROOF_USE_NOT_RECORDED'
  | 'PROOF_REUSED'
  | 'IDENTITY_REQUIRED'
  // RFC 3161 time-stamps of the checkpoint (timestamps.json): the codes of writ verify, and one more.
  | TimestampCheckCode
  | 'TIMESTAMP_MISSING'
  // Personal values (sealed.json): each entry names a commitment a record holds; a disclosure opens it.
  | 'SEALED_MALFORMED'
  | 'SEALED_NOT_IN_RECORD'
  | 'SEALED_UNLISTED'
  | 'DISCLOSURE_INVALID';
