/** "What happened to X?": the projection's one-row answer, the ledger's full timeline, and words for people. */
export { whatHappened, timeline, warmLookups } from './queries.js';
export {
  describeWhatHappened,
  describeOperation,
  describeTimeline,
  whatHappenedJson,
  duration,
  changedSteps,
  compensations,
  verdict,
} from './format.js';
export type { ChangedStep } from './format.js';
export type {
  WhatHappened,
  OperationSummary,
  TimelineEvent,
  RecentEvent,
  StepOutcome,
  PlannedTarget,
  ApprovalEvent,
} from './types.js';
export { findEvidence } from './lookup.js';
export type { Evidence, EvidenceLookup } from './lookup.js';
