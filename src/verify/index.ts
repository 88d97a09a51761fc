/**
 * `writ/verify`: everything an outsider needs to check Writ's evidence, with no database and no
 * network (the same code `writ verify` and `writ verify-bundle` run). Synchronous and pure: the
 * caller reads records, checkpoints or bundle files and hands over their bytes.
 */
export { canonicalBytes, canonicalText } from './canonical.js';
export { canonicalProblem } from './canonical-check.js';
export { GENESIS_HASH, HASH_BYTES, chainHash } from './hash.js';
export { RECORD_FORMAT_VERSION } from './record-format.js';
export { checkRecord } from './record-check.js';
export type { ChainedRecord, RecordContext, RecordProblem } from './record-check.js';
export { ChainVerifier, verifyChain } from './chain.js';
export type { ChainHead, ChainVerdict, Damage, DamageCode, DamageKind, LedgerRow } from './chain.js';
export { LifecycleChecker } from './lifecycle-check.js';
export type { LifecycleFacts, LifecycleFinding } from './lifecycle-check.js';
export { EMPTY_ROOT, leafHash, nodeHash, rootOf, verifyConsistency, verifyInclusion } from './merkle.js';
export { parseVerifierKey, verifyNote } from './note.js';
export type { NoteFailure, NoteVerdict, VerifierKey } from './note.js';
export { parseCheckpoint, verifyCheckpoint } from './checkpoint.js';
export type { Checkpoint, CheckpointFailure, CheckpointVerdict } from './checkpoint.js';
export { auditCheckpoints } from './audit.js';
export type { CheckpointAudit, CheckpointFinding, CheckpointFindingCode, CheckpointSource } from './audit.js';
export { verifyBundle } from './bundle/verify.js';
export type { BundleFinding, BundleFindingCode, BundleVerdict, VerifyBundleOptions } from './bundle/verify.js';
export { EvidenceFormatError } from './format-error.js';
