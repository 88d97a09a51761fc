import type { ApproverDirectory } from '../../approvals/directory.js';
import type { ConnectorRegistry } from '../../connectors/registry.js';
import type { LoadedDirectory } from '../../governance/directory.js';
import type { GovernanceRecorder } from '../../governance/recorder.js';
import type { LedgerAppender } from '../../ledger/appender.js';
import type { LoadedPolicy } from '../../policy/load.js';
import type { IdentityContext } from '../../identity/service.js';

/** Everything the governed-write activities need; built once, in worker.ts. */
export interface WritDeps {
  appender: LedgerAppender;
  /**
   * Which chain an operation's records go to (WRIT_CHAINS): asked once, by the plan, for the
   * operation's first record; the envelope carries the answer. Absent: chain main.
   */
  chains?: { forOperation(operationId: string): Promise<string> };
  registry: ConnectorRegistry;
  policy: () => Promise<LoadedPolicy>;
  approvers: ApproverDirectory;
  /** The directory of people in force now (requester groups, approvers); none: nobody has groups. */
  directory?: () => Promise<LoadedDirectory>;
  /** Records each policy revision and directory version on first use; absent: not recorded. */
  governance?: GovernanceRecorder;
  /** Signs checkpoints when operations close (batched) and when the schedule asks; absent: none. */
  checkpoints?: {
    request(chainId: string): void;
    now(): Promise<Array<{ chainId: string; size: number }>>;
  };
  now?: () => Date;
  /** Checks proofs of identity; absent: every identity is only asserted, and policy that wants more refuses. */
  identity?: IdentityContext;
}
