import { postgresConnector } from '../../src/connectors/postgres/index.js';
import type { TestLedger } from './db.js';
import { withHooks } from './hooked-connector.js';

/**
 * The postgres connector for a write that ends in needs_intervention: verification finds account 42
 * changed by someone else, and the rollback is refused.
 */
export const stuckConnectors = (ledger: TestLedger) => [
  withHooks(postgresConnector({ pool: ledger.pool, allowLedgerDatabase: true }), {
    beforeVerify: async () => {
      await ledger.pool.query(`UPDATE accounts SET tier = 'bronze' WHERE id = 42`);
    },
    rollback: async () => {
      throw new Error('the CRM is read-only for maintenance');
    },
  }),
];
