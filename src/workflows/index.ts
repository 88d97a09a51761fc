/**
 * Writ's workflows. A TypeScript plugin cannot add workflows to your bundle, so re-export them
 * from your own workflows module in one line:
 *
 *   export * from 'writ/workflows';
 */
export { governedWrite } from './governed-write.js';
export { writCheckpoint } from './checkpoint.js';
export type { GovernedWriteSettings } from './governed-write.js';
export * from './messages.js';
