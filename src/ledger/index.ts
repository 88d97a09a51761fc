export * from './appender.js';
export * from '../verify/canonical.js';
export * from '../verify/hash.js';
export * from './migrate.js';
export * from './reader.js';
export * from './record.js';
export * from '../verify/chain.js';
export * from './manual-event.js';
