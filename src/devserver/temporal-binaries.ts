import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  SERVER_GO_TOOLCHAIN,
  findGo,
  goInstall,
  goModCache,
  isExecutable,
  withBuildLock,
  writCacheRoot,
} from './go-build.js';

/**
 * The production Temporal topology, built natively: the server, its SQL tool (with the schema it
 * applies) and the Web UI server, at the versions docker-compose.yml pins, so what the tests run
 * is what Compose would run. Built once from the Go module proxy into the cache, outside the repo.
 */
export interface TemporalBinaries {
  server: string;
  sqlTool: string;
  /** The PostgreSQL v12 schema directory the SQL tool applies (admin-tools' /etc/temporal/schema/postgresql/v12). */
  postgresSchema: string;
  uiServer: string;
  /** The UI server's root: config/docker.yaml, the template the temporalio/ui image renders from its environment. */
  uiRoot: string;
  serverVersion: string;
  uiVersion: string;
}

export interface ComposeVersions {
  server: string;
  adminTools: string;
  ui: string;
}

const SERVER_MODULE = 'go.temporal.io/server';
const UI_MODULE = 'github.com/temporalio/ui-server/v2';

export function repoRoot(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  return fileURLToPath(
    here.includes('/dist/') ? new URL('../../../', import.meta.url) : new URL('../../', import.meta.url),
  );
}

/** The image tags Compose names; the server and admin-tools must agree (one schema per release). */
export function composeVersions(composeText: string): ComposeVersions {
  const tag = (image: string): string => {
    const match = new RegExp(`image:\\s*temporalio/${image}:([0-9][^\\s"']*)`).exec(composeText);
    if (!match) throw new Error(`docker-compose.yml names no pinned temporalio/${image} image`);
    return match[1]!;
  };
  const versions = { server: tag('server'), adminTools: tag('admin-tools'), ui: tag('ui') };
  if (versions.server !== versions.adminTools)
    throw new Error(
      `docker-compose.yml pins temporalio/server:${versions.server} but temporalio/admin-tools:${versions.adminTools}: the schema tool must match the server`,
    );
  return versions;
}

function binariesFor(versions: ComposeVersions, env: NodeJS.ProcessEnv) {
  const serverDir = join(writCacheRoot(env), `temporal-${versions.server}`);
  const uiRoot = join(writCacheRoot(env), `temporal-ui-${versions.ui}`);
  return {
    serverDir,
    uiRoot,
    server: env.WRIT_TEMPORAL_SERVER || join(serverDir, 'temporal-server'),
    sqlTool: env.WRIT_TEMPORAL_SQL_TOOL || join(serverDir, 'temporal-sql-tool'),
    postgresSchema: env.WRIT_TEMPORAL_SCHEMA_DIR || join(serverDir, 'schema', 'postgresql', 'v12'),
    uiServer: env.WRIT_TEMPORAL_UI_SERVER || join(uiRoot, 'temporal-ui-server'),
  };
}

/** The cached binaries, or null when any is missing (then `ensureTemporalBinaries` builds them). */
export function findTemporalBinaries(
  env: NodeJS.ProcessEnv = process.env,
  versions = composeVersions(readFileSync(join(repoRoot(), 'docker-compose.yml'), 'utf8')),
): TemporalBinaries | null {
  const found = binariesFor(versions, env);
  const complete =
    isExecutable(found.server) &&
    isExecutable(found.sqlTool) &&
    isExecutable(found.uiServer) &&
    existsSync(join(found.postgresSchema, 'temporal', 'versioned')) &&
    existsSync(join(found.uiRoot, 'config', 'docker.yaml'));
  if (!complete) return null;
  const { serverDir: _, ...paths } = found;
  return { ...paths, serverVersion: versions.server, uiVersion: versions.ui };
}

/**
 * Builds what is missing (several minutes the first time on a machine; a rerun finds them).
 * GOTOOLCHAIN is set here, whatever the caller's shell says, because these releases refuse older Go.
 */
export async function ensureTemporalBinaries(
  env: NodeJS.ProcessEnv = process.env,
  log: (line: string) => void = () => undefined,
): Promise<TemporalBinaries> {
  const versions = composeVersions(readFileSync(join(repoRoot(), 'docker-compose.yml'), 'utf8'));
  const found = findTemporalBinaries(env, versions);
  if (found) return found;
  const go = findGo(env);
  if (!go)
    throw new Error(
      'building the Temporal server needs Go (https://go.dev/dl); or set WRIT_TEMPORAL_SERVER, WRIT_TEMPORAL_SQL_TOOL, WRIT_TEMPORAL_SCHEMA_DIR and WRIT_TEMPORAL_UI_SERVER',
    );
  return withBuildLock(
    writCacheRoot(env),
    `temporal-${versions.server}`,
    () => findTemporalBinaries(env, versions),
    () => buildTemporalBinaries(go, versions, env, log),
  );
}

async function buildTemporalBinaries(
  go: string,
  versions: ComposeVersions,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<TemporalBinaries> {
  const goEnv = { ...env, GOTOOLCHAIN: SERVER_GO_TOOLCHAIN };
  const paths = binariesFor(versions, env);
  const stage = join(writCacheRoot(env), `stage-${process.pid}`);
  mkdirSync(paths.serverDir, { recursive: true });
  try {
    const build = async (pkg: string, built: string, target: string) => {
      if (isExecutable(target)) return;
      log(`building ${pkg} with ${SERVER_GO_TOOLCHAIN} into ${target}; this takes several minutes once`);
      rmSync(stage, { recursive: true, force: true });
      await goInstall(go, pkg, stage, goEnv);
      mkdirSync(join(target, '..'), { recursive: true });
      // go install names a binary after its package directory (`server` twice): rename on the way in.
      renameSync(join(stage, built), target);
    };
    await build(`${SERVER_MODULE}/cmd/server@v${versions.server}`, 'server', paths.server);
    await build(`${SERVER_MODULE}/cmd/tools/sql@v${versions.server}`, 'sql', paths.sqlTool);
    await build(`${UI_MODULE}/cmd/server@v${versions.ui}`, 'server', paths.uiServer);
    // The schema and the UI's config template ship in the modules' sources; keep copies beside the
    // binaries, where the images keep theirs, so a cleaned module cache cannot lose them.
    const modules = await goModCache(go, goEnv);
    if (!existsSync(join(paths.postgresSchema, 'temporal', 'versioned')))
      cpSync(
        join(modules, `${SERVER_MODULE}@v${versions.server}`, 'schema', 'postgresql', 'v12'),
        paths.postgresSchema,
        {
          recursive: true,
        },
      );
    if (!existsSync(join(paths.uiRoot, 'config', 'docker.yaml')))
      cpSync(
        join(modules, `${UI_MODULE}@v${versions.ui}`, 'config', 'docker.yaml'),
        join(paths.uiRoot, 'config', 'docker.yaml'),
      );
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  const built = findTemporalBinaries(env, versions);
  if (!built) throw new Error(`the Temporal builds finished but ${paths.serverDir} is incomplete`);
  return built;
}

// `npm run temporal:server` builds them up front (CI does) and prints where they are.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  ensureTemporalBinaries(process.env, (line) => console.error(line)).then(
    (binaries) => console.log(JSON.stringify(binaries, null, 2)),
    (error: Error) => {
      console.error(error.message);
      process.exitCode = 2;
    },
  );
}
