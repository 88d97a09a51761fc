import type { Connector, ConnectorAction } from '../../src/connectors/types.js';

/**
 * A real connector with the outside world misbehaving at chosen moments: another writer changing
 * the row just before Writ looks at it or before verification reads it, a reply lost after the write
 * was made, or the system
 * refusing a rollback.
 */
export function withHooks(
  base: Connector,
  hooks: {
    beforeSnapshot?: (nth: number) => Promise<void>;
    afterExecute?: () => Promise<void>;
    beforeVerify?: () => Promise<void>;
    rollback?: () => Promise<void>;
  },
): Connector {
  const actions: Record<string, ConnectorAction<unknown>> = {};
  let snapshots = 0;
  for (const [name, action] of Object.entries(base.actions)) {
    actions[name] = {
      ...action,
      // Counted across actions: validation, the re-read after approval and the execute step each take one.
      snapshot: async (call) => {
        await hooks.beforeSnapshot?.(++snapshots);
        return action.snapshot(call);
      },
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
