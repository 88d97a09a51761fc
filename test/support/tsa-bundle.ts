import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import type { CliResult } from './cli.js';
import { REPO_ROOT, runCommand, runWrit } from './cli.js';
import { freshLedger } from './db.js';
import { note } from './records.js';
import { keygen } from './signing-key.js';
import type { LocalTsa } from './tsa.js';
import { startLocalTsa } from './tsa.js';

/** Bundles from a ledger whose checkpoints a local TSA stamps, and both verifiers' verdicts on them. */
export type Context = Parameters<typeof freshLedger>[0];

export const PYTHON_VERIFIER = join(REPO_ROOT, 'test', 'evidence', 'independent_verifier.py');
export const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

export interface Verdict {
  findings: Array<{ code: string; file: string; problem: string }>;
  timestamps: { tokens: number; signaturesChecked: boolean; checkpointGenTime: string | null };
}

export interface TimestampsFile {
  checkpoint: number;
  stamps: Array<{ size: number; note: string; token: string }>;
  unstamped?: string;
}

export async function tsaFor(t: Context, name = 'acme'): Promise<LocalTsa> {
  const tsa = await startLocalTsa(name);
  t.after(() => tsa.close());
  return tsa;
}

/** A ledger of traced notes whose checkpoints the TSA at `tsaUrl` stamps (none when undefined). */
export async function ledgerWith(t: Context, tsaUrl: string | undefined) {
  const ledger = await freshLedger(t);
  const dir = mkdtempSync(join(tmpdir(), 'writ-time-bundle-'));
  const { verifierKey, env: signing } = await keygen(dir);
  const env: Record<string, string> = { DATABASE_URL: ledger.url, ...signing, WRIT_VERIFIER_KEY: verifierKey };
  if (tsaUrl) env.WRIT_TSA_URL = tsaUrl;
  const appender = new GroupCommitAppender(ledger.pool);
  const append = (from: number, to: number) =>
    appender.appendAll(Array.from({ length: to - from + 1 }, (_, i) => note(from + i, { correlationId: TRACE })));
  let exports = 0;
  const exportBundle = async (): Promise<{ out: string; result: CliResult }> => {
    const out = join(dir, `bundle-${++exports}`);
    return { out, result: await runWrit(['export', TRACE, '--out', out], { env }) };
  };
  return { ledger, env, dir, verifierKey, append, exportBundle };
}

/** Checkpoint 5 stamped by `writ checkpoint`, then 8 signed and stamped by the export itself. */
export async function stampedBundle(
  t: Context,
  tsa: LocalTsa,
  beforeExport?: (l: Awaited<ReturnType<typeof ledgerWith>>) => Promise<void>,
) {
  const setup = await ledgerWith(t, tsa.url);
  await setup.append(1, 5);
  const first = await runWrit(['checkpoint'], { env: setup.env });
  assert.equal(first.code, 0, first.stdout + first.stderr);
  await setup.append(6, 8);
  await beforeExport?.(setup);
  const { out, result } = await setup.exportBundle();
  assert.equal(result.code, 0, result.stdout + result.stderr);
  return { ...setup, out };
}

export async function verifyBundle(dir: string, env: Record<string, string>, tsaCert?: string) {
  const result = await runWrit(['verify-bundle', dir, '--json', ...(tsaCert ? ['--tsa-cert', tsaCert] : [])], {
    env,
  });
  return { ...result, verdict: JSON.parse(result.stdout) as Verdict };
}

export function python(dir: string, verifierKey: string, tsaCert?: string): Promise<CliResult> {
  return runCommand('python3', [
    PYTHON_VERIFIER,
    dir,
    '--verifier-key',
    verifierKey,
    ...(tsaCert ? ['--tsa-cert', tsaCert] : []),
  ]);
}

export function codes(verdict: Verdict): string[] {
  return verdict.findings.map((f) => `${f.file} ${f.code}`);
}

export function timestampsOf(dir: string): TimestampsFile {
  return JSON.parse(readFileSync(join(dir, 'timestamps.json'), 'utf8')) as TimestampsFile;
}
