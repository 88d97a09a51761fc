import type { RollbackContract } from '../../model/contract.js';
import type { BuiltinConnectorConfig } from './index.js';
import { describableBuiltins } from './index.js';

/** One row of the capability matrix: a built-in connector's action and its rollback contract. */
export type CapabilityRow = { connector: string; action: string; configured: boolean } & RollbackContract;

/** Every built-in connector action with its contract (`writ connectors`); whether each connector is configured here. */
export async function capabilityMatrix(config: BuiltinConnectorConfig): Promise<CapabilityRow[]> {
  const builtins = describableBuiltins(config);
  try {
    return builtins.flatMap(({ connector, configured }) =>
      Object.entries(connector.actions).map(([action, definition]) => ({
        connector: connector.name,
        action,
        configured,
        ...definition.contract,
      })),
    );
  } finally {
    for (const builtin of builtins) await builtin.close();
  }
}
