import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { configFromEnv } from '../../src/config/writ-config.js';
import type { CheckResult } from '../../src/doctor/check.js';
import type { DoctorContext } from '../../src/doctor/context.js';
import { runDoctor } from '../../src/doctor/run.js';
import type { CliResult } from '../support/cli.js';
import { runWrit } from '../support/cli.js';

/** `writ doctor --json` as a user runs it; the checks by name, and the exit code. */
export async function doctorCli(
  env: NodeJS.ProcessEnv,
  args: string[] = [],
  options: { uid?: number } = {},
): Promise<{ code: number | null; checks: Map<string, CheckResult>; cli: CliResult }> {
  const cli = await runWrit(['doctor', '--json', ...args], { env, ...options });
  const parsed = JSON.parse(cli.stdout) as { ok: boolean; checks: CheckResult[] };
  assert.equal(parsed.ok, cli.code === 0, `ok agrees with the exit code: ${cli.stdout}\n${cli.stderr}`);
  return { code: cli.code, checks: new Map(parsed.checks.map((check) => [check.name, check])), cli };
}

/** The doctor in this process, with an environment of the test's own (nothing from process.env leaks in). */
export function doctorIn(env: NodeJS.ProcessEnv, overrides: Partial<DoctorContext> = {}): Promise<CheckResult[]> {
  return runDoctor({
    role: 'all',
    config: configFromEnv(env),
    env,
    host: hostname(),
    now: Date.now,
    clockToleranceMs: 2_000,
    ...overrides,
  });
}

export function named(results: CheckResult[], name: string): CheckResult {
  const found = results.find((result) => result.name === name);
  assert.ok(found, `no check named ${name} in ${results.map((r) => r.name).join(', ')}`);
  return found;
}

/** The environment variables `writ doctor` reads that the test run may have set for itself. */
export const CLEARED: NodeJS.ProcessEnv = {
  WRIT_SIGNING_KEY: '',
  WRIT_VERIFIER_KEY: '',
  WRIT_ANCHOR_DIR: '',
  WRIT_ANCHOR_DATABASE_URL: '',
  WRIT_ANCHOR_S3_BUCKET: '',
  WRIT_CHECKPOINT_EVERY: '',
  WRIT_OIDC_ISSUER: '',
  WRIT_SLACK_BOT_TOKEN: '',
  WRIT_SLACK_API_URL: '',
  TEMPORAL_NAMESPACE: '',
};
