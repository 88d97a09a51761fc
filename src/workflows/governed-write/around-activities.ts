type AnyActivity = (...args: unknown[]) => Promise<unknown>;
type WithOptions = AnyActivity & {
  executeWithOptions(options: unknown, args: unknown[]): Promise<unknown>;
};

/** The same activities (local or regular), each call (plain or with options) run through `around`. */
export function aroundActivities<Activities extends object>(
  activities: Activities,
  around: (name: string, call: () => Promise<unknown>) => Promise<unknown>,
): Activities {
  return new Proxy(activities, {
    get(target, name, receiver) {
      const activity = Reflect.get(target, name, receiver) as WithOptions | undefined;
      if (typeof activity !== 'function' || typeof name !== 'string') return activity;
      const wrapped = (...args: unknown[]) => around(name, () => activity(...args));
      wrapped.executeWithOptions = (options: unknown, args: unknown[]) =>
        around(name, () => activity.executeWithOptions(options, args));
      return wrapped;
    },
  });
}
