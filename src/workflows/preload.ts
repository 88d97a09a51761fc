/**
 * Preloaded into the workflow sandbox once per worker thread, before any workflow (the bundle's
 * `preloadModules`; `writPlugin` and `writBundleOptions()` add it). Without it, the reusable
 * sandbox re-runs the initialisers of every module a workflow imports for each new workflow, and
 * zod's are the costliest: validators of signals and updates import it. zod keeps no per-workflow
 * state, so one frozen copy can serve every workflow.
 *
 * The import must be used: zod declares itself free of side effects, so webpack drops a bare
 * `require('zod')` (which is why `preloadModules: ['zod']` alone preloads nothing).
 */
import { z } from 'zod';

/**
 * zod sets its default locale and memoizer in its module state when it builds its first schema.
 * The SDK freezes preloaded module state, so that first schema is built here, and a failing parse
 * run, while it still can be set.
 */
function warmUp(): boolean {
  const schema = z.strictObject({ kind: z.literal('x'), text: z.string().trim().min(1).regex(/^x$/) });
  return (
    !schema.safeParse({ kind: 'y', text: '', extra: 1 }).success && schema.safeParse({ kind: 'x', text: 'x' }).success
  );
}

export const zodPreloaded: boolean = warmUp();
