/**
 * Writ's workflows. A TypeScript plugin cannot add workflows to your bundle, so re-export them
 * from your own workflows module in one line:
 *
 *   export * from 'writ/workflows';
 */
export { governedWrite } from './governed-write/index.js';
export { writCheckpoint } from './checkpoint.js';
export { writRetention } from './retention.js';
export { writCheckpointWatch } from './checkpoint-watch.js';
export type { GovernedWriteSettings } from './governed-write/index.js';
export * from './governed-write/messages.js';
