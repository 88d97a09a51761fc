import type { Connector, ConnectorAction } from '../../src/connectors/types.js';

/**
 * A real connector with the outside world misbehaving at chosen moments: another writer changing
 * the row before verification reads it, or the system refusing a rollback.
 */
export function withHooks(base: Connector, hooks: { beforeVerify?: () => Promise<void>; rollback?: () => Promise<void> }): Connector {
  const actions: Record<string, ConnectorAction<unknown>> = {};
  for (const [name, action] of Object.entries(base.actions)) {
    actions[name] = {
      ...action,
      verify: async (call, context) => {
        await hooks.beforeVerify?.();
        return action.verify(call, context);
      },
      rollback: async (call, context) => {
        await hooks.rollback?.();
        return action.rollback(call, context);
      },
    };
  }
  return { ...base, actions };
}
