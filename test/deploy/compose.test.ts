/**
 * docker-compose.yml, the Dockerfile and their scripts, checked as far as a machine without a
 * Docker engine can: the Compose Specification's schema, agreement with Writ's code, the
 * one-shot jobs' scripts run for real against the test run's Temporal dev server and PostgreSQL,
 * and the Dockerfile's build stage replayed on exactly the files .dockerignore admits.
 * No image is built and no container runs here.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { Connection } from '@temporalio/client';
import pg from 'pg';
import ts from 'typescript';
import { LOGINS } from '../../src/db/logins.js';
import { findTemporalCli } from '../../src/devserver/find-cli.js';
import { WRIT_SEARCH_ATTRIBUTES } from '../../src/model/search-attributes.js';
import { loadedPolicy } from '../../src/policy/load.js';
import { approverDirectoryFromFile } from '../../src/approvals/directory.js';
import { REPO_ROOT, runCommand } from '../support/cli.js';
import { adminUrl, databaseUrlFor } from '../support/urls.js';
import { WORKER_MEMORY_ENV } from '../../src/worker/memory-env.js';
import type { CodeFacts, Json, JsonObject, SchemaValidator } from './compose-checks.js';
import {
  SERVICES,
  checkDeployment,
  composeSchemaValidator,
  dockerContextRoots,
  interpolate,
  parseCompose,
  parseDockerfile,
  parseEnvFile,
  jobScript,
} from './compose-checks.js';

const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');
const COMPOSE = read('docker-compose.yml');
const ENV_FILE = parseEnvFile(read('deploy/.env.example'));
const DOCKERFILE = parseDockerfile(read('Dockerfile'));

/**
 * Commands or variables the compose file may use before the code has them (work landing on
 * another branch): reported as pending, not as a problem. Once one exists in src/, the test fails
 * until it is removed from here, so nothing stays excused by accident. Nothing is pending today.
 */
const PENDING = {
  commands: new Set<string>(),
  env: new Set<string>(),
};

function sourceFiles(dir: string): string[] {
  return readdirSync(join(REPO_ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => join(dir, file));
}

/** Every `env.NAME` / `env['NAME']` under src/ (process.env and the env parameters the config functions take). */
function envReadsInSrc(): Set<string> {
  const names = new Set<string>();
  for (const file of sourceFiles('src')) {
    for (const match of read(file).matchAll(/\benv(?:\.([A-Z][A-Z0-9_]*)\b|\[\s*['"]([A-Z][A-Z0-9_]*)['"]\s*\])/g))
      names.add((match[1] ?? match[2])!);
  }
  return names;
}

async function writCommands(): Promise<Set<string>> {
  const help = await runCommand(process.execPath, ['dist/src/cli/main.js', '--help']);
  assert.equal(help.code, 0, help.stderr);
  const section = help.stdout.slice(help.stdout.indexOf('Commands:'));
  return new Set([...section.matchAll(/^ {2}([a-z][a-z-]*)\b/gm)].map((m) => m[1]!));
}

async function codeFacts(): Promise<CodeFacts> {
  return {
    envReads: envReadsInSrc(),
    commands: await writCommands(),
    searchAttributes: new Map(Object.values(WRIT_SEARCH_ATTRIBUTES).map((key) => [key.name, key.type])),
    exists: (path) => existsSync(join(REPO_ROOT, path)),
    read: (path) => (existsSync(join(REPO_ROOT, path)) ? read(path) : undefined),
    pending: PENDING,
  };
}

// Built once per file: `writ --help` in a child process and the schema compilation take a while.
let cachedFacts: Promise<CodeFacts> | undefined;
const facts = () => (cachedFacts ??= codeFacts());
let cachedValidator: SchemaValidator | undefined;
const validateSchema = (doc: Json) => (cachedValidator ??= composeSchemaValidator())(doc);

type Mutation = (doc: { services: Record<string, Record<string, Json>> } & Record<string, Json>) => void;

/** A mutated copy of a job's mounted script, put inline (`sh -euc`) where the checks read it. */
function inlineJob(doc: Parameters<Mutation>[0], name: string, edit: (script: string) => string): void {
  const job = doc.services[name]!;
  const script = edit(jobScript(job, (path) => read(path)));
  job.entrypoint = ['/bin/sh', '-euc'];
  // Compose interpolates the file: a shell's own `$` is written `$$` there.
  job.command = [script.replaceAll('$', '$$$$')];
}

/** The whole pipeline on a (possibly mutated) copy: interpolation, schema, code agreement. */
async function problemsOf(mutate?: Mutation, dockerfile = DOCKERFILE): Promise<string[]> {
  const raw = parseCompose(COMPOSE);
  if (mutate) mutate(raw as Parameters<Mutation>[0]);
  const { doc, problems, variables } = interpolate(raw, ENV_FILE);
  const schema = validateSchema(doc);
  const findings = checkDeployment({ raw, doc, variables, envFile: ENV_FILE, dockerfile, facts: await facts() });
  return [...problems, ...schema, ...findings.problems];
}

describe('docker-compose.yml', () => {
  test('is valid against the Compose Specification once interpolated with deploy/.env.example', () => {
    const { doc, problems } = interpolate(parseCompose(COMPOSE), ENV_FILE);
    assert.deepEqual(problems, []);
    assert.deepEqual(validateSchema(doc), []);
  });

  test('agrees with the code: services, dependencies, health checks, environment, search attributes, commands', async () => {
    assert.deepEqual(await problemsOf(), []);
  });

  test('relies on nothing still pending except what PENDING names, and PENDING names nothing that has landed', async (t) => {
    const code = await facts();
    const landed = [
      ...[...PENDING.commands].filter((c) => code.commands.has(c)).map((c) => `command ${c}`),
      ...[...PENDING.env].filter((v) => code.envReads.has(v)).map((v) => `variable ${v}`),
    ];
    assert.deepEqual(
      landed,
      [],
      'these exist in src/ now: remove them from PENDING so the compose file is checked against them',
    );
    const raw = parseCompose(COMPOSE);
    const { doc, variables } = interpolate(raw, ENV_FILE);
    const { pending } = checkDeployment({
      raw,
      doc,
      variables,
      envFile: ENV_FILE,
      dockerfile: DOCKERFILE,
      facts: code,
    });
    if (pending.length) t.skip(`not checkable on this branch yet: ${pending.join('; ')}`);
  });

  test('deploy/compose.s3-anchor.yml, the S3 anchor option, is valid and sets only what the worker reads', async () => {
    const env = {
      ...ENV_FILE,
      WRIT_ANCHOR_S3_BUCKET: 'acme-writ-anchors',
      WRIT_ANCHOR_S3_RETENTION_DAYS: '2555',
      AWS_ACCESS_KEY_ID: 'id',
      AWS_SECRET_ACCESS_KEY: 'secret',
    };
    const { doc, problems } = interpolate(parseCompose(read('deploy/compose.s3-anchor.yml')), env);
    assert.deepEqual(problems, []);
    assert.deepEqual(validateSchema(doc), []);
    const services = (doc as { services: Record<string, JsonObject> }).services;
    assert.deepEqual(Object.keys(services), [SERVICES.worker]);
    // The AWS SDK's default credential chain reads these, not code under src/.
    const sdk = new Set(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']);
    const code = await facts();
    const environment = services[SERVICES.worker]!.environment as JsonObject;
    assert.deepEqual(
      Object.keys(environment).filter((key) => !code.envReads.has(key) && !sdk.has(key)),
      [],
    );
  });

  test('registers exactly the search attributes of src/model/search-attributes.ts', () => {
    const script = jobScript(
      (parseCompose(COMPOSE) as { services: Record<string, JsonObject> }).services[SERVICES.searchAttributes]!,
      (path) => read(path),
    );
    const registered = [...script.matchAll(/--name (\w+) --type (\w+)/g)]
      .map((m) => `${m[1]}:${m[2]!.toUpperCase()}`)
      .sort();
    const expected = Object.values(WRIT_SEARCH_ATTRIBUTES)
      .map((key) => `${key.name}:${key.type.replace(/_/g, '')}`)
      .sort();
    assert.deepEqual(registered, expected);
  });

  test('runs the worker with the memory settings that P6 measured (src/worker/memory-env.ts)', () => {
    const { doc } = interpolate(parseCompose(COMPOSE), ENV_FILE);
    const worker = (doc as { services: Record<string, { environment?: Record<string, unknown> }> }).services[
      'writ-worker'
    ]!;
    for (const [name, value] of Object.entries(WORKER_MEMORY_ENV))
      assert.equal(String(worker.environment?.[name]), value, `writ-worker's ${name}`);
  });

  describe('mutated copies fail', () => {
    const cases: Array<{ name: string; mutate: Mutation; expect: RegExp }> = [
      {
        name: 'an unknown depends_on condition (schema)',
        expect:
          /schema: \/services\/writ-worker\/depends_on.*must be equal to one of the allowed values|schema: \/services\/writ-worker\/depends_on/,
        mutate: (d) => {
          (d.services['writ-worker']!.depends_on as Record<string, Json>)['writ-migrate'] = {
            condition: 'service_finished',
          };
        },
      },
      {
        name: 'a misspelt service key (schema)',
        expect: /schema: \/services\/temporal must NOT have additional properties \(healtcheck\)/,
        mutate: (d) => {
          d.services.temporal!.healtcheck = d.services.temporal!.healthcheck!;
          delete d.services.temporal!.healthcheck;
        },
      },
      {
        name: 'a port out of range (schema format)',
        expect: /schema: \/services\/temporal-ui\/ports\/0/,
        mutate: (d) => {
          d.services['temporal-ui']!.ports = ['127.0.0.1:99999:8080'];
        },
      },
      {
        name: 'a health check interval that is not a Go duration (schema format)',
        expect: /schema: \/services\/postgres\/healthcheck\/interval must match format "duration"/,
        mutate: (d) => {
          (d.services.postgres!.healthcheck as Record<string, Json>).interval = '5 seconds';
        },
      },
      {
        name: 'DATABASE_URL pointing at the container itself',
        expect: /writ-worker: DATABASE_URL points at localhost, which is not the compose PostgreSQL service/,
        mutate: (d) => {
          (d.services['writ-worker']!.environment as Record<string, Json>).DATABASE_URL =
            'postgres://writ:${POSTGRES_PASSWORD:?x}@localhost:5432/writ';
        },
      },
      {
        name: 'DATABASE_URL with another database',
        expect: /writ-serve: DATABASE_URL database ledger is not postgres's POSTGRES_DB/,
        mutate: (d) => {
          (d.services['writ-serve']!.environment as Record<string, Json>).DATABASE_URL =
            'postgres://writ:${POSTGRES_PASSWORD:?x}@postgres:5432/ledger';
        },
      },
      {
        name: 'the worker connecting as the superuser',
        expect: /writ-worker: DATABASE_URL user writ is not writ_worker, the least-privileged login/,
        mutate: (d) => {
          (d.services['writ-worker']!.environment as Record<string, Json>).DATABASE_URL =
            'postgres://writ:${POSTGRES_PASSWORD:?x}@postgres:5432/writ';
        },
      },
      {
        name: 'serve connecting as the worker',
        expect: /writ-serve: DATABASE_URL user writ_worker is not writ_serve/,
        mutate: (d) => {
          (d.services['writ-serve']!.environment as Record<string, Json>).DATABASE_URL =
            'postgres://writ_worker:${WRIT_WORKER_DB_PASSWORD:?x}@postgres:5432/writ';
        },
      },
      {
        name: "the connector writing the ledger's database",
        expect: /writ-worker: WRIT_POSTGRES_CONNECTOR_URL database writ is not writ_targets/,
        mutate: (d) => {
          (d.services['writ-worker']!.environment as Record<string, Json>).WRIT_POSTGRES_CONNECTOR_URL =
            'postgres://writ_connector:${WRIT_CONNECTOR_DB_PASSWORD:?x}@postgres:5432/writ';
        },
      },
      {
        name: 'TEMPORAL_ADDRESS at the Web UI',
        expect: /writ-worker: TEMPORAL_ADDRESS must be the temporal service's frontend/,
        mutate: (d) => {
          (d.services['writ-worker']!.environment as Record<string, Json>).TEMPORAL_ADDRESS = 'temporal-ui:7233';
        },
      },
      {
        name: 'a search attribute registered with the wrong type',
        expect: /search attribute WritRisk is registered as Text, the code defines it as KEYWORD/,
        mutate: (d) =>
          inlineJob(d, 'writ-search-attributes', (s) =>
            s.replace('--name WritRisk --type Keyword', '--name WritRisk --type Text'),
          ),
      },
      {
        name: 'a search attribute left out',
        expect: /search attribute WritMode \(KEYWORD\) is not registered/,
        mutate: (d) =>
          inlineJob(d, 'writ-search-attributes', (s) =>
            s
              .split('\n')
              .filter((l) => !l.includes('WritMode'))
              .join('\n'),
          ),
      },
      {
        name: 'a variable no code reads',
        expect: /writ-worker sets DATABASE_URI, which nothing under src\/ reads/,
        mutate: (d) => {
          (d.services['writ-worker']!.environment as Record<string, Json>).DATABASE_URI = 'postgres://postgres/writ';
        },
      },
      {
        name: 'a command writ does not have',
        expect: /writ-worker runs `writ wrker`, which is not a writ command/,
        mutate: (d) => {
          d.services['writ-worker']!.command = ['wrker'];
        },
      },
      {
        name: 'the worker not waiting for the migration',
        expect: /writ-worker must wait for writ-migrate to complete/,
        mutate: (d) => {
          delete (d.services['writ-worker']!.depends_on as Record<string, Json>)['writ-migrate'];
        },
      },
      {
        name: 'a one-shot job that restarts forever',
        expect:
          /writ-worker waits for writ-migrate to complete, but writ-migrate restarts unless-stopped and never completes/,
        mutate: (d) => {
          d.services['writ-migrate']!.restart = 'unless-stopped';
        },
      },
      {
        name: 'waiting for health on a service without a health check',
        expect: /temporal-ui waits for temporal to be healthy, but temporal has no health check/,
        mutate: (d) => {
          delete d.services.temporal!.healthcheck;
        },
      },
      {
        name: "the worker's health check running serve's checks",
        expect: /writ-worker: the health check must run `writ doctor --role worker`/,
        mutate: (d) => {
          (d.services['writ-worker']!.healthcheck as Record<string, Json>).test = [
            'CMD',
            'node',
            'dist/src/cli/main.js',
            'doctor',
            '--role',
            'serve',
          ];
        },
      },
      {
        name: 'a health check running a command writ does not have',
        expect: /writ-serve's health check runs `writ checkup`, which is not a writ command/,
        mutate: (d) => {
          (d.services['writ-serve']!.healthcheck as Record<string, Json>).test = [
            'CMD',
            'node',
            'dist/src/cli/main.js',
            'checkup',
          ];
        },
      },
      {
        name: 'a hard-coded password',
        expect: /postgres: POSTGRES_PASSWORD must be \$\{VAR:\?\.\.\.\} from the environment file/,
        mutate: (d) => {
          (d.services.postgres!.environment as Record<string, Json>).POSTGRES_PASSWORD = 'postgres';
        },
      },
      {
        name: 'admin-tools from another release than the server',
        expect: /temporal-schema: image must be temporalio\/admin-tools:1\.32\.0/,
        mutate: (d) => {
          d.services['temporal-schema']!.image = 'temporalio/admin-tools:1.29.1';
        },
      },
      {
        name: 'a port published on every interface',
        expect: /temporal-ui publishes port 8080 on every interface/,
        mutate: (d) => {
          d.services['temporal-ui']!.ports = ['8080:8080'];
        },
      },
      {
        name: 'a dependency cycle',
        expect: /depends_on cycle: /,
        mutate: (d) => {
          d.services.postgres!.depends_on = { 'writ-worker': { condition: 'service_started' } };
        },
      },
      {
        name: 'a volume nobody declared',
        expect: /writ-worker mounts volume writ-anchor, which is not declared/,
        mutate: (d) => {
          d.services['writ-worker']!.volumes = (d.services['writ-worker']!.volumes as string[]).map((v) =>
            v.replace('writ-anchors:', 'writ-anchor:'),
          );
        },
      },
    ];
    for (const { name, mutate, expect } of cases) {
      test(name, async () => {
        const problems = await problemsOf(mutate);
        assert.ok(
          problems.some((problem) => expect.test(problem)),
          `expected a problem matching ${expect}, got:\n${problems.join('\n')}`,
        );
      });
    }

    test('a Dockerfile that runs as root, in shell form', async () => {
      const dockerfile = parseDockerfile(
        read('Dockerfile')
          .replace('USER node', 'USER root')
          .replace('ENTRYPOINT ["node", "dist/src/cli/main.js"]', 'ENTRYPOINT node dist/src/cli/main.js'),
      );
      const problems = await problemsOf(undefined, dockerfile);
      assert.ok(problems.includes('Dockerfile: the final stage must switch to a non-root USER'), problems.join('\n'));
      assert.ok(
        problems.some((p) => p.startsWith('Dockerfile: ENTRYPOINT must be the exec form')),
        problems.join('\n'),
      );
    });
  });

  test('docker-compose config -q accepts it, and refuses a mutated copy', async (t) => {
    const binary = ['/usr/bin/docker-compose', '/usr/local/bin/docker-compose'].find((path) => existsSync(path));
    if (!binary) {
      t.skip(
        'docker-compose is not installed (apt-get install docker-compose): the Compose implementation itself was not run',
      );
      return;
    }
    // A clean environment: Compose lets the caller's environment override the env file.
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir() };
    const args = (file: string) => [
      '--project-directory',
      REPO_ROOT,
      '--env-file',
      join(REPO_ROOT, 'deploy/.env.example'),
      '-f',
      file,
      'config',
      '-q',
    ];
    const ok = await runCommand(binary, args(join(REPO_ROOT, 'docker-compose.yml')), { env, cwd: REPO_ROOT });
    assert.equal(ok.code, 0, ok.stderr);
    const dir = mkdtempSync(join(tmpdir(), 'writ-compose-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(
      join(dir, 'docker-compose.yml'),
      COMPOSE.replace('condition: service_completed_successfully', 'condition: service_finished'),
    );
    const bad = await runCommand(binary, args(join(dir, 'docker-compose.yml')), { env, cwd: REPO_ROOT });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /service_finished/);
    const noSecrets = await runCommand(
      binary,
      ['--project-directory', REPO_ROOT, '-f', join(REPO_ROOT, 'docker-compose.yml'), 'config', '-q'],
      { env: { ...env }, cwd: dir },
    );
    assert.notEqual(noSecrets.code, 0, 'without an env file the secrets are missing and Compose must refuse');
    assert.match(
      noSecrets.stderr,
      /set (POSTGRES_PASSWORD|TEMPORAL_DB_PASSWORD|WRIT_LINK_SECRET|WRIT_SLACK_SIGNING_SECRET) in \.env/,
    );
  });

  test("the example policy and approver directory mounted into the worker load with Writ's own parsers", async () => {
    const policy = loadedPolicy(JSON.parse(read('deploy/writ/policy.json')));
    assert.equal(policy.policy.id, 'compose-example');
    const approvers = await approverDirectoryFromFile(join(REPO_ROOT, 'deploy/writ/approvers.json'));
    const bob = await approvers.facts('bob', '0'.repeat(64), undefined);
    assert.deepEqual(bob, { known: true, groups: ['managers'], signatureValid: null, keyId: null });
    // The one approver can satisfy the example policy's rules: every rule asks for a group bob is in.
    for (const rule of policy.policy.rules)
      assert.ok(
        rule.approvals?.fromGroups.some((group) => bob.groups.includes(group)),
        rule.name,
      );
  });
});

describe("the one-shot jobs' scripts, run for real", () => {
  const script = (service: string): string => {
    const { doc } = interpolate(parseCompose(COMPOSE), ENV_FILE);
    const svc = (doc as { services: Record<string, JsonObject> }).services[service]!;
    const text = jobScript(svc, (path) => read(path));
    assert.ok(text, `${service} runs a script the test can read`);
    // An inline `sh -euc` script was written with Compose's $$ escapes, which interpolation has undone.
    return text;
  };

  test('temporal-namespace and writ-search-attributes, twice, against the dev server in a fresh namespace', async (t) => {
    const cli = findTemporalCli();
    if (!cli) {
      t.skip("no temporal CLI here (the test run uses the SDK's dev server download)");
      return;
    }
    const namespace = `writ-compose-${randomBytes(4).toString('hex')}`;
    // The scripts use the CLI's own environment variables, as admin-tools does.
    const env = {
      PATH: `${dirname(cli)}:${process.env.PATH ?? ''}`,
      TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS!,
      TEMPORAL_NAMESPACE: namespace,
    };
    for (const round of [1, 2]) {
      const ns = await runCommand('/bin/sh', ['-euc', script(SERVICES.namespace)], { env });
      assert.equal(ns.code, 0, `namespace job, run ${round}: ${ns.stderr}`);
      if (round === 2) assert.match(ns.stdout, new RegExp(`namespace ${namespace} exists`));
      const sa = await runCommand('/bin/sh', ['-euc', script(SERVICES.searchAttributes)], { env });
      assert.equal(sa.code, 0, `search attribute job, run ${round}: ${sa.stdout}\n${sa.stderr}`);
    }
    const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
    t.after(() => connection.close());
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    const KEYWORD = 2; // temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
    for (const key of Object.values(WRIT_SEARCH_ATTRIBUTES)) {
      assert.equal(key.type, 'KEYWORD', 'this check knows the Keyword enum only; extend it with the new type');
      assert.equal(customAttributes?.[key.name], KEYWORD, `${key.name} in namespace ${namespace}`);
    }
  });

  test('writ-keygen makes the signing key once and leaves it alone afterwards', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'writ-keys-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const text = script(SERVICES.keygen).replaceAll('/var/lib/writ/keys', dir);
    const first = await runCommand('/bin/sh', ['-euc', text]);
    assert.equal(first.code, 0, first.stderr);
    const key = readFileSync(join(dir, 'writ.key'), 'utf8');
    assert.match(key, /BEGIN PRIVATE KEY/);
    const second = await runCommand('/bin/sh', ['-euc', text]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /signing key exists/);
    assert.equal(readFileSync(join(dir, 'writ.key'), 'utf8'), key);
  });

  test('the PostgreSQL init script gives Temporal its own role owning its two databases', async (t) => {
    const role = `${process.env.WRIT_TEST_RUN}_temporal`;
    const admin = new URL(adminUrl());
    const client = new pg.Client({ connectionString: adminUrl() });
    await client.connect();
    t.after(async () => {
      for (const db of [role, `${role}_visibility`])
        await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(db)} WITH (FORCE)`);
      await client.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(role)}`);
      await client.end();
    });
    const password = `it's-${randomBytes(6).toString('hex')}`; // a quote, to prove the quoting
    const run = await runCommand('/bin/sh', [join(REPO_ROOT, 'deploy/postgres/initdb/10-temporal.sh')], {
      env: {
        PGHOST: admin.hostname,
        PGPORT: admin.port || '5432',
        PGPASSWORD: decodeURIComponent(admin.password),
        POSTGRES_USER: decodeURIComponent(admin.username),
        POSTGRES_DB: admin.pathname.slice(1) || 'postgres',
        TEMPORAL_DB_USER: role,
        TEMPORAL_DB_PASSWORD: password,
      },
    });
    assert.equal(run.code, 0, run.stderr);
    const roles = await client.query<{ rolcanlogin: boolean; rolsuper: boolean; rolcreatedb: boolean }>(
      'SELECT rolcanlogin, rolsuper, rolcreatedb FROM pg_roles WHERE rolname = $1',
      [role],
    );
    assert.deepEqual(roles.rows, [{ rolcanlogin: true, rolsuper: false, rolcreatedb: false }]);
    const owned = await client.query<{ datname: string }>(
      'SELECT datname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba WHERE r.rolname = $1 ORDER BY datname',
      [role],
    );
    assert.deepEqual(
      owned.rows.map((r) => r.datname),
      [role, `${role}_visibility`],
    );
    // Temporal's visibility schema creates btree_gin; as the database owner it must be able to.
    const asTemporal = new pg.Client({
      connectionString: databaseUrlFor(`${role}_visibility`).replace(
        /\/\/[^@/]*@/,
        `//${encodeURIComponent(role)}:${encodeURIComponent(password)}@`,
      ),
    });
    await asTemporal.connect();
    try {
      await asTemporal.query('CREATE EXTENSION btree_gin');
    } finally {
      await asTemporal.end();
    }
  });
});

describe("the PostgreSQL init script for Writ's logins", () => {
  test('gives each service a login of its own holding only its roles, from the same SQL writ demo and writ dev run, and the connector its own database', async (t) => {
    const targets = `${process.env.WRIT_TEST_RUN}_targets`;
    const admin = new URL(adminUrl());
    const client = new pg.Client({ connectionString: adminUrl() });
    await client.connect();
    t.after(async () => {
      await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(targets)} WITH (FORCE)`);
      await client.end();
    });
    const passwords = {
      WRIT_WORKER_DB_PASSWORD: `w'-${randomBytes(4).toString('hex')}`,
      WRIT_CHECKPOINT_DB_PASSWORD: 'c',
      WRIT_SERVE_DB_PASSWORD: 's',
      WRIT_CONNECTOR_DB_PASSWORD: 'n',
    };
    const env = {
      PGHOST: admin.hostname,
      PGPORT: admin.port || '5432',
      PGPASSWORD: decodeURIComponent(admin.password),
      POSTGRES_USER: decodeURIComponent(admin.username),
      POSTGRES_DB: admin.pathname.slice(1) || 'postgres',
      WRIT_TARGETS_DB: targets,
      ...passwords,
    };
    for (let run = 0; run < 2; run++) {
      const result = await runCommand('/bin/sh', [join(REPO_ROOT, 'deploy/postgres/initdb/20-writ-logins.sh')], {
        env,
      });
      assert.equal(result.code, 0, result.stderr);
    }
    const roles = await client.query<{
      rolname: string;
      rolcanlogin: boolean;
      powers: boolean;
      has_password: boolean;
      member_of: string[];
    }>(
      `SELECT r.rolname, r.rolcanlogin, (r.rolsuper OR r.rolbypassrls OR r.rolcreaterole OR r.rolcreatedb) AS powers, a.rolpassword IS NOT NULL AS has_password,
              ARRAY(SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid ORDER BY g.rolname)::text[] AS member_of
         FROM pg_roles r JOIN pg_authid a ON a.oid = r.oid WHERE r.rolname = ANY($1) ORDER BY r.rolname`,
      [Object.values(LOGINS)],
    );
    assert.deepEqual(roles.rows, [
      {
        rolname: 'writ_checkpoint',
        rolcanlogin: true,
        powers: false,
        has_password: true,
        member_of: ['writ_checkpointer'],
      },
      { rolname: 'writ_connector', rolcanlogin: true, powers: false, has_password: true, member_of: [] },
      {
        rolname: 'writ_serve',
        rolcanlogin: true,
        powers: false,
        has_password: true,
        member_of: ['writ_access_recorder', 'writ_reader'],
      },
      { rolname: 'writ_worker', rolcanlogin: true, powers: false, has_password: true, member_of: ['writ_writer'] },
    ]);
    const owner = await client.query('SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1', [
      targets,
    ]);
    assert.equal(owner.rows[0]?.owner, LOGINS.connector);
    // The demo and `writ dev` run this very file (src/db/logins.ts), not a copy of it.
    assert.match(read('src/db/logins.ts'), /deploy\/postgres\/initdb\/writ-logins\.psql/);
    assert.match(read('deploy/postgres/initdb/20-writ-logins.sh'), /writ-logins\.psql/);
  });
});

describe('the Dockerfile', () => {
  test('runtime code imports only packages the image installs (dependencies, not devDependencies)', () => {
    const pkg = JSON.parse(read('package.json')) as { name: string; dependencies: Record<string, string> };
    const builtins = new Set(builtinModules);
    const missing = new Set<string>();
    for (const file of readdirSync(join(REPO_ROOT, 'dist/src'), { recursive: true, encoding: 'utf8' }).filter((f) =>
      f.endsWith('.js'),
    )) {
      // The compiler's own scanner: static and dynamic imports, not strings in comments.
      const { importedFiles } = ts.preProcessFile(read(join('dist/src', file)), true, true);
      for (const { fileName: specifier } of importedFiles) {
        if (specifier.startsWith('.') || specifier.startsWith('node:') || builtins.has(specifier.split('/')[0]!))
          continue;
        const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
        if (name !== pkg.name && !(name in pkg.dependencies)) missing.add(`${name} (dist/src/${file})`);
      }
    }
    assert.deepEqual([...missing], [], 'npm ci --omit=dev will not install these');
  });

  test('its build stage works on exactly the files .dockerignore admits, and the runtime layout runs', async (t) => {
    const build = mkdtempSync(join(tmpdir(), 'writ-image-build-'));
    const runtime = mkdtempSync(join(tmpdir(), 'writ-image-runtime-'));
    t.after(() => {
      rmSync(build, { recursive: true, force: true });
      rmSync(runtime, { recursive: true, force: true });
    });
    const context = dockerContextRoots(read('.dockerignore'));
    for (const entry of context) cpSync(join(REPO_ROOT, entry), join(build, entry), { recursive: true });
    // `npm ci` needs the registry, which this machine must not be used for: the repository's
    // installed node_modules stands in for it (so a missing dependency is caught above, not here).
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(build, 'node_modules'));
    const [buildStage] = DOCKERFILE.stages;
    for (const { op, args } of buildStage!.instructions) {
      if (op === 'COPY') {
        const sources = args.split(/\s+/).slice(0, -1);
        for (const source of sources)
          assert.ok(
            context.includes(source.replace(/\/$/, '')),
            `the build stage copies ${source}, which .dockerignore keeps out of the context`,
          );
      }
      if (op !== 'RUN' || /^npm ci\b/.test(args)) continue;
      const step = await runCommand('/bin/sh', ['-c', args], { cwd: build });
      assert.equal(step.code, 0, `RUN ${args}\n${step.stdout}\n${step.stderr}`);
    }
    // The runtime stage's COPY lines, applied to a fresh directory: `--from=build` from the build
    // stage's results, the others from the build context.
    const final = DOCKERFILE.stages.at(-1)!;
    for (const { args } of final.instructions.filter((i) => i.op === 'COPY')) {
      const words = args.split(/\s+/);
      const fromBuild = words[0] === '--from=build';
      const paths = fromBuild ? words.slice(1) : words;
      const target = paths.pop()!;
      for (const source of paths) {
        if (!fromBuild)
          assert.ok(
            context.includes(source.replace(/\/$/, '')),
            `the runtime stage copies ${source}, which .dockerignore keeps out of the context`,
          );
        const from = join(build, source.replace(/^\/app\//, ''));
        const to = target.endsWith('/') ? join(runtime, target, source.split('/').at(-1)!) : join(runtime, target);
        assert.ok(existsSync(from), `COPY ${args}: ${source} does not exist`);
        cpSync(from, to, { recursive: true });
      }
    }
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(runtime, 'node_modules'));
    const env = final.instructions.filter((i) => i.op === 'ENV').map((i) => i.args);
    for (const name of ['WRIT_WORKFLOW_BUNDLE', 'WRIT_WORKFLOW_BUNDLE_TRACED']) {
      const bundle = env.map((args) => new RegExp(`^${name}=(\\S+)`).exec(args)?.[1]).find(Boolean);
      assert.ok(
        bundle && existsSync(join(runtime, bundle.replace(/^\/app\//, ''))),
        `the workflow bundle ${name}=${bundle} is in the image`,
      );
    }
    const entry = JSON.parse(final.instructions.filter((i) => i.op === 'ENTRYPOINT').at(-1)!.args) as string[];
    const raw = parseCompose(COMPOSE) as { services: Record<string, { command?: string[] }> };
    const commands = new Set([
      'worker',
      'migrate',
      'keygen',
      ...Object.values(raw.services)
        .map((s) => s.command?.[0])
        .filter((c): c is string => !!c && /^[a-z]+$/.test(c)),
    ]);
    for (const command of commands) {
      if (PENDING.commands.has(command)) continue;
      const help = await runCommand(
        entry[0] === 'node' ? process.execPath : entry[0]!,
        [...entry.slice(1), command, '--help'],
        { cwd: runtime },
      );
      assert.equal(help.code, 0, `writ ${command} --help in the runtime layout: ${help.stderr}`);
    }
    // `writ migrate` from the runtime layout finds its migrations beside dist/.
    const database = `${process.env.WRIT_TEST_RUN}_image_${randomBytes(3).toString('hex')}`;
    const migrate = await runCommand(process.execPath, [...entry.slice(1), 'migrate'], {
      cwd: runtime,
      env: { DATABASE_URL: databaseUrlFor(database) },
    });
    assert.equal(migrate.code, 0, migrate.stderr);
    assert.match(migrate.stdout, /0001_ledger/);
  });
});
