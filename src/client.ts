/** Entry point for Writ's client; implemented in src/client/ so that no folder imports the root. */
export * from './client/writ-client.js';
