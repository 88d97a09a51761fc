/** Entry point for Writ's Temporal plugin (the Dockerfile and embedders import it here); implemented in src/worker/. */
export * from './worker/plugin.js';
