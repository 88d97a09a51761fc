/** Entry point for running Writ's worker; its implementation lives in src/worker/ so that no folder imports the root. */
export * from './worker/create-worker.js';
