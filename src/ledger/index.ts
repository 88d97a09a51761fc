export * from './appender.js';
export * from './canonical.js';
export * from './hash.js';
export * from './migrate.js';
export * from './reader.js';
export * from './record.js';
export * from './verify.js';
export * from "./manual-event.js";
