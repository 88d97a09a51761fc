import type { ApproverDirectory } from '../../approvals/directory.js';
import type { ConnectorRegistry } from '../../connectors/registry.js';
import type { LedgerAppender } from '../../ledger/appender.js';
import type { LoadedPolicy } from '../../policy/load.js';

/** Everything the governed-write activities need; built once, in worker.ts. */
export interface WritDeps {
  appender: LedgerAppender;
  registry: ConnectorRegistry;
  policy: () => Promise<LoadedPolicy>;
  approvers: ApproverDirectory;
  /** Signs checkpoints when operations close (batched) and when the schedule asks; absent: none. */
  checkpoints?: {
    request(chainId: string): void;
    now(): Promise<Array<{ chainId: string; size: number }>>;
  };
  now?: () => Date;
}
