import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bundleWorkflowCode } from '@temporalio/worker';
import { writBundleOptions, writPlugin, writWorkflowPreloadPath } from '../../src/plugin.js';

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

/** The body of the bundle's `preloadModules` function: what the sandbox loads once, before any workflow. */
function preloadBody(code: string): string {
  const start = code.indexOf('exports.preloadModules = function preloadModules() {');
  assert.ok(start >= 0, 'the bundle has a preloadModules function');
  return code.slice(start, code.indexOf('\n}\n', start));
}

test('the workflow bundle preloads zod once per thread, and the request schemas stay out of it', async () => {
  const { code } = await bundleWorkflowCode({ ...writBundleOptions(), logger: quiet });
  // A bare require('zod') would be dropped (zod has no side effects): the preload module must be required.
  assert.match(preloadBody(code), /workflows\/preload\.js/);
  assert.doesNotMatch(code, /!\*\*\* [^*]*model\/request\.js \*\*\*!/, 'the workflow does not import model/request.js');
});

test('writPlugin adds the preload module to bundles it takes part in, once, keeping the caller’s', () => {
  const plugin = writPlugin({ ledger: { databaseUrl: 'postgres://nobody@127.0.0.1:1/none' }, connectors: [] });
  const once = plugin.configureBundler({ workflowsPath: 'x', preloadModules: ['mine'] });
  const twice = plugin.configureBundler(once);
  assert.deepEqual(twice.preloadModules, ['mine', writWorkflowPreloadPath()]);
});
