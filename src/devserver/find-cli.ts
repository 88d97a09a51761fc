import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { findGo, goInstall, isExecutable, onPath, withBuildLock, writCacheRoot } from './go-build.js';

/**
 * Later tags of the CLI carry a `replace` directive in go.mod, which `go install pkg@version`
 * refuses, so these are the newest tags that install from the module proxy, in order of preference.
 */
export const INSTALLABLE_CLI_VERSIONS = ['v1.5.1', 'v1.5.0', 'v1.4.1'] as const;
const CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(writCacheRoot(env), 'bin');
}

/** TEMPORAL_CLI, then `temporal` on PATH, then the cached build; null when none is there. */
export function findTemporalCli(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.TEMPORAL_CLI) {
    if (!isExecutable(env.TEMPORAL_CLI)) throw new Error(`TEMPORAL_CLI=${env.TEMPORAL_CLI} is not an executable file`);
    return env.TEMPORAL_CLI;
  }
  const fromPath = onPath('temporal', env);
  if (fromPath) return fromPath;
  const cached = join(cacheDir(env), 'temporal');
  return isExecutable(cached) ? cached : null;
}

/**
 * Builds the CLI from the Go module proxy into the cache (a few minutes, once per machine).
 * Returns null when there is no Go toolchain, so the caller can fall back to the SDK's download.
 */
export async function installTemporalCli(
  env: NodeJS.ProcessEnv = process.env,
  log: (line: string) => void = () => undefined,
): Promise<string | null> {
  const go = findGo(env);
  if (!go) return null;
  const gobin = cacheDir(env);
  mkdirSync(gobin, { recursive: true });
  const built = join(gobin, 'temporal');
  return withBuildLock(
    writCacheRoot(env),
    'temporal-cli',
    () => (isExecutable(built) ? built : null),
    () => buildCli(go, gobin, env, log),
  );
}

async function buildCli(
  go: string,
  gobin: string,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<string> {
  const failures: string[] = [];
  for (const version of INSTALLABLE_CLI_VERSIONS) {
    // Newer Go toolchains refuse the linkname tricks older dependencies use; the flag lifts that check.
    for (const extra of [[], ['-ldflags=-checklinkname=0']]) {
      log(
        `building the Temporal CLI ${version} with ${go} into ${gobin}${extra.length ? ` (${extra.join(' ')})` : ''}; this takes a few minutes once`,
      );
      try {
        await goInstall(go, `${CLI_MODULE}@${version}`, gobin, env, extra);
        const built = join(gobin, 'temporal');
        if (isExecutable(built)) return built;
      } catch (error) {
        failures.push(`${version}${extra.length ? ' ' + extra.join(' ') : ''}: ${(error as Error).message}`);
      }
    }
  }
  throw new Error(
    `could not build the Temporal CLI with Go:\n${failures.join('\n')}\nSet TEMPORAL_CLI to an existing temporal binary instead.`,
  );
}

/** Finds the CLI or builds it; null means "no Go here: let the SDK download its own". */
export async function ensureTemporalCli(
  env: NodeJS.ProcessEnv = process.env,
  log?: (line: string) => void,
): Promise<string | null> {
  return findTemporalCli(env) ?? (await installTemporalCli(env, log));
}

// `npm run temporal:cli` prints the path, installing first when needed (CI calls it up front).
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  ensureTemporalCli(process.env, (line) => console.error(line)).then(
    (path) => {
      if (!path) {
        console.error('no Go toolchain: the Temporal SDK will download its dev server on first use');
        return;
      }
      console.log(path);
    },
    (error: Error) => {
      console.error(error.message);
      process.exitCode = 2;
    },
  );
}
