import { DefaultLogger, Runtime } from '@temporalio/worker';

let installed = false;

/** Workers log every state change at INFO; tests want only what went wrong. */
export function quietTemporalRuntime(): void {
  if (installed) return;
  Runtime.install({ logger: new DefaultLogger('WARN') });
  installed = true;
}
