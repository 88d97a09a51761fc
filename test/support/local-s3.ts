import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalS3 } from '../../src/devserver/versitygw-server.js';
import type { LocalS3 } from '../../src/devserver/versitygw-server.js';
import { ensureVersitygw } from '../../src/devserver/versitygw.js';

/**
 * The versitygw binary, found or built (the harness builds it before files that need it). In CI
 * (CI set) its absence fails the file; elsewhere, with no Go to build it, the caller skips loudly.
 */
export async function versitygwBinary(): Promise<string | null> {
  const binary = await ensureVersitygw(process.env, (line) => console.error(line));
  if (!binary && process.env.CI)
    throw new Error('versitygw is not installed and there is no Go to build it: run `npm run s3:server` first');
  return binary;
}

/**
 * A real S3 server of the file's own, on a free port over a fresh directory; `dispose` stops it
 * and removes the directory (call it from the describe's `after`).
 */
export async function fileLocalS3(binary: string): Promise<LocalS3 & { dir: string; dispose(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'writ-s3-'));
  const server = await startLocalS3(binary, dir);
  return {
    ...server,
    dir,
    async dispose() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let buckets = 0;

/** A bucket name no other test of the file uses. */
export function bucketName(what: string): string {
  buckets += 1;
  return `writ-${what}-${process.pid}-${buckets}`;
}
