import { execFile } from 'node:child_process';
import { accessSync, constants, mkdirSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * The Temporal server, its SQL tool and the UI server at the versions Compose names need a newer Go
 * than many machines carry; the go command fetches this toolchain from the module proxy itself.
 */
export const SERVER_GO_TOOLCHAIN = 'go1.27.3';

/** Where Writ caches what it builds: outside any checkout, so a fresh clone reuses it. */
export function writCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.WRIT_CACHE_DIR || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'writ');
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function onPath(name: string, env: NodeJS.ProcessEnv): string | null {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return null;
}

export function findGo(env: NodeJS.ProcessEnv): string | null {
  return onPath('go', env) ?? (isExecutable('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : null);
}

/** `go install <pkg>` into gobin; throws with the last lines go printed. */
export async function goInstall(
  go: string,
  pkg: string,
  gobin: string,
  env: NodeJS.ProcessEnv,
  flags: string[] = [],
): Promise<void> {
  try {
    await run(go, ['install', ...flags, pkg], { env: { ...env, GOBIN: gobin }, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? (error as Error).message);
    throw new Error(`go install ${pkg} failed: ${stderr.trim().split('\n').slice(-3).join(' | ')}`, {
      cause: error,
    });
  }
}

/** The module cache directory (`go env GOMODCACHE`), where a built module's non-Go files live. */
export async function goModCache(go: string, env: NodeJS.ProcessEnv): Promise<string> {
  const { stdout } = await run(go, ['env', 'GOMODCACHE'], { env });
  return stdout.trim();
}

/**
 * One build at a time per cache: test files started together would otherwise each compile the
 * same module in parallel, on the same cores. A lock older than an hour is a crashed builder's.
 * `done` says whether another builder already produced what this one wanted.
 */
export async function withBuildLock<T>(
  cacheRoot: string,
  name: string,
  done: () => T | null,
  build: () => Promise<T>,
): Promise<T> {
  const lock = join(cacheRoot, `${name}.lock`);
  mkdirSync(cacheRoot, { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 3_600_000) rmSync(lock, { recursive: true, force: true });
      else await new Promise((resolve) => setTimeout(resolve, 2_000));
      const built = done();
      if (built) return built;
    }
  }
  try {
    return done() ?? (await build());
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
