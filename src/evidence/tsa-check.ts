// The check is pure and lives in src/verify, where the offline bundle verifier uses it too.
export { auditTimestamps } from '../verify/timestamps.js';
export type { TimestampAudit, TimestampCheckCode, TimestampFinding } from '../verify/timestamps.js';
