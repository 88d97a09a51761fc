import type { LocalActivityInterfaceFor, LocalActivityOptions } from '@temporalio/workflow';

type AnyActivity = (...args: unknown[]) => Promise<unknown>;
type WithOptions = AnyActivity & {
  executeWithOptions(options: LocalActivityOptions, args: unknown[]): Promise<unknown>;
};

/** The same local activities, each call (plain or with options) run through `around`. */
export function aroundLocalActivities<T>(
  activities: LocalActivityInterfaceFor<T>,
  around: (name: string, call: () => Promise<unknown>) => Promise<unknown>,
): LocalActivityInterfaceFor<T> {
  return new Proxy(activities as object, {
    get(target, name, receiver) {
      const activity = Reflect.get(target, name, receiver) as WithOptions | undefined;
      if (typeof activity !== 'function' || typeof name !== 'string') return activity;
      const wrapped = (...args: unknown[]) => around(name, () => activity(...args));
      wrapped.executeWithOptions = (options: LocalActivityOptions, args: unknown[]) =>
        around(name, () => activity.executeWithOptions(options, args));
      return wrapped;
    },
  }) as LocalActivityInterfaceFor<T>;
}
