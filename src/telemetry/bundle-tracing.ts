import { readFileSync } from 'node:fs';
import type { WorkflowBundleOption } from '@temporalio/worker';
import { WritError } from '../model/errors.js';

// How webpack names the module in the bundle's list of interceptor modules, whatever the layout
// of node_modules: present exactly when the SDK's OpenTelemetry workflow interceptors were bundled.
const TRACING_INTERCEPTORS = 'interceptors-opentelemetry/lib/workflow-interceptors';

/**
 * A worker that traces needs the SDK's workflow interceptors in its prebuilt bundle: without them
 * its activity spans would hang under workflow spans that never come, and nothing would say why.
 */
export function assertBundleTraces(bundle: WorkflowBundleOption, remedy: string): void {
  const code = 'code' in bundle ? bundle.code : readFileSync(bundle.codePath, 'utf8');
  if (code.includes(TRACING_INTERCEPTORS)) return;
  const name = 'codePath' in bundle ? `the workflow bundle ${bundle.codePath}` : 'the workflow bundle given as code';
  throw new WritError(
    'CONFIG',
    `tracing is on, but ${name} was built without the OpenTelemetry workflow interceptors, so no workflow would have a span`,
    remedy,
  );
}
