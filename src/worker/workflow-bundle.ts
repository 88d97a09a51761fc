import { readFile } from 'node:fs/promises';
import { WritError } from '../model/errors.js';

/** The prebuilt bundles a worker may start from (WRIT_WORKFLOW_BUNDLE, WRIT_WORKFLOW_BUNDLE_TRACED). */
export interface PrebuiltBundles {
  workflowBundlePath?: string;
  /** Built with `writBundleOptions({ tracing: true })`: the one a worker that traces starts from. */
  tracedWorkflowBundlePath?: string;
}

// How webpack names the module in the bundle's list of interceptor modules, whatever the layout
// of node_modules: present exactly when the SDK's OpenTelemetry workflow interceptors were bundled.
const TRACING_INTERCEPTORS = 'interceptors-opentelemetry/lib/workflow-interceptors';

/**
 * The bundle to start from, or undefined to bundle at start. A worker that traces needs the SDK's
 * workflow interceptors in its bundle, or it would export activity spans under workflow spans that
 * never come: it takes the traced bundle when there is one, and refuses a bundle without them.
 */
export async function workflowBundleFor(
  bundles: PrebuiltBundles,
  tracing: boolean,
): Promise<{ codePath: string } | undefined> {
  const codePath = tracing
    ? (bundles.tracedWorkflowBundlePath ?? bundles.workflowBundlePath)
    : bundles.workflowBundlePath;
  if (!codePath) return undefined;
  if (tracing && !(await readFile(codePath, 'utf8')).includes(TRACING_INTERCEPTORS))
    throw new WritError(
      'CONFIG',
      `tracing is on, but the workflow bundle ${codePath} was built without the OpenTelemetry workflow interceptors, so no workflow would have a span`,
      'Build a bundle with bundleWorkflowCode(writBundleOptions({ tracing: true })) and name it in WRIT_WORKFLOW_BUNDLE_TRACED, or unset WRIT_WORKFLOW_BUNDLE to bundle at start.',
    );
  return { codePath };
}
