import type { Connector, ConnectorAction } from '../../src/connectors/types.js';

/**
 * A real connector with the outside world misbehaving at chosen moments: another writer changing
 * the row before verification reads it, a reply lost after the write was made, or the system
 * refusing a rollback.
 */
export function withHooks(base: Connector, hooks: { afterExecute?: () => Promise<void>; beforeVerify?: () => Promise<void>; rollback?: () => Promise<void> }): Connector {
  const actions: Record<string, ConnectorAction<unknown>> = {};
  for (const [name, action] of Object.entries(base.actions)) {
    actions[name] = {
      ...action,
      execute: async (call, context) => {
        const result = await action.execute(call, context);
        await hooks.afterExecute?.();
        return result;
      },
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
