import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { findGo, goInstall, isExecutable, onPath, withBuildLock, writCacheRoot } from './go-build.js';

/**
 * versitygw (Apache-2.0): an S3 server over a local directory that enforces Object Lock the way
 * AWS does, so the S3 anchor is tested against a real store, not a fake. This version builds with
 * `go install` from the module proxy.
 */
export const VERSITYGW_VERSION = 'v1.8.0';
const MODULE = 'github.com/versity/versitygw/cmd/versitygw';

/** VERSITYGW, then `versitygw` on PATH, then the cached build; null when none is there. */
export function findVersitygw(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.VERSITYGW) {
    if (!isExecutable(env.VERSITYGW)) throw new Error(`VERSITYGW=${env.VERSITYGW} is not an executable file`);
    return env.VERSITYGW;
  }
  const cached = join(writCacheRoot(env), 'bin', 'versitygw');
  return onPath('versitygw', env) ?? (isExecutable(cached) ? cached : null);
}

/** Builds versitygw into the cache (a few minutes, once per machine); null when there is no Go here. */
export async function installVersitygw(
  env: NodeJS.ProcessEnv = process.env,
  log: (line: string) => void = () => undefined,
): Promise<string | null> {
  const go = findGo(env);
  if (!go) return null;
  const gobin = join(writCacheRoot(env), 'bin');
  mkdirSync(gobin, { recursive: true });
  const built = join(gobin, 'versitygw');
  return withBuildLock(
    writCacheRoot(env),
    'versitygw',
    () => (isExecutable(built) ? built : null),
    async () => {
      log(`building versitygw ${VERSITYGW_VERSION} with ${go} into ${gobin}; this takes a few minutes once`);
      await goInstall(go, `${MODULE}@${VERSITYGW_VERSION}`, gobin, env);
      if (!isExecutable(built)) throw new Error(`go install ${MODULE} left no ${built}`);
      return built;
    },
  );
}

export async function ensureVersitygw(
  env: NodeJS.ProcessEnv = process.env,
  log?: (line: string) => void,
): Promise<string | null> {
  return findVersitygw(env) ?? (await installVersitygw(env, log));
}

// `npm run s3:server` prints the path, building first when needed (CI calls it before the tests).
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  ensureVersitygw(process.env, (line) => console.error(line)).then(
    (path) => {
      if (!path) {
        console.error('no Go toolchain: install Go, or set VERSITYGW to a versitygw binary, to test the S3 anchor');
        process.exitCode = 2;
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
