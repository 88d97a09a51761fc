/** Writ's public API for workers and clients. Workflows are exported from `writ/workflows`. */
export {
  writBundleOptions,
  writPlugin,
  writWorkflowInterceptorsPath,
  writWorkflowPreloadPath,
  writWorkflowsPath,
} from './plugin.js';
export { traceContextClientInterceptor } from './tracing/client-interceptor.js';
export type { WritPluginOptions } from './plugin.js';
export { WritClient, InvalidRequestError, OperationConflictError, newTraceparent } from './client.js';
export type { StartedOperation } from './client.js';
export { signRequest } from './identity/request-proof.js';
export type { RequestIdentity } from './identity/request-proof.js';
export type { IdentityProof } from './model/identity-proof.js';
export { postgresConnector } from './connectors/postgres/index.js';
export { httpConnector } from './connectors/http/index.js';
export { filesConnector } from './connectors/files/index.js';
export { webhookConnector } from './connectors/webhook/index.js';
export { ConnectorRegistry } from './connectors/registry.js';
export type {
  Connector,
  ConnectorAction,
  Snapshot,
  Preview,
  Execution,
  Verification,
  RollbackResult,
  ResolvedTarget,
} from './connectors/types.js';
export { ConnectorInputError } from './connectors/types.js';
export type { RollbackContract } from './model/contract.js';
export type { OperationRequestInput, OperationRequest } from './model/request.js';
export { operationRequestSchema, requestJsonSchema } from './model/request.js';
export type { OperationState, OperationResult } from './model/operation.js';
export type { Effect, PolicyInput, PolicyDecision } from './model/policy.js';
export { WRIT_SEARCH_ATTRIBUTES } from './model/search-attributes.js';
export { GroupCommitAppender } from './ledger/appender.js';
export type { AppendObserver, AppendOutcome } from './ledger/appender.js';
export { writMetrics, serveMetrics } from './metrics/index.js';
export type { WritMetrics, WritMetricsOptions, MetricsServer } from './metrics/index.js';
export { migrate } from './ledger/migrate.js';
export { startServe } from './serve/server.js';
export type { ServeOptions, RunningServe } from './serve/server.js';
export { whatHappened, timeline } from './evidence/what-happened/index.js';
