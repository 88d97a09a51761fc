import { assertBundleTraces } from '../telemetry/bundle-tracing.js';

/** The prebuilt bundles a worker may start from (WRIT_WORKFLOW_BUNDLE, WRIT_WORKFLOW_BUNDLE_TRACED). */
export interface PrebuiltBundles {
  workflowBundlePath?: string;
  /** Built with `writBundleOptions({ tracing: true })`: the one a worker that traces starts from. */
  tracedWorkflowBundlePath?: string;
}

/**
 * The bundle to start from, or undefined to bundle at start. A worker that traces takes the traced
 * bundle when there is one, and refuses a bundle without the SDK's workflow interceptors.
 */
export function workflowBundleFor(bundles: PrebuiltBundles, tracing: boolean): { codePath: string } | undefined {
  const codePath = tracing
    ? (bundles.tracedWorkflowBundlePath ?? bundles.workflowBundlePath)
    : bundles.workflowBundlePath;
  if (!codePath) return undefined;
  if (tracing)
    assertBundleTraces(
      { codePath },
      'Build a bundle with bundleWorkflowCode(writBundleOptions({ tracing: true })) and name it in WRIT_WORKFLOW_BUNDLE_TRACED, or unset WRIT_WORKFLOW_BUNDLE to bundle at start.',
    );
  return { codePath };
}
