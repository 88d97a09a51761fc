/**
 * docker-compose.yml as Compose reads it: YAML with anchors and merge keys, then `${VAR...}`
 * interpolated from an environment file. Shared by test/deploy's checks and the native topology
 * (test/support/topology), which runs the services with the environment the file gives them.
 */
import { parse as parseYaml } from 'yaml';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function parseCompose(text: string): Json {
  // Compose files are YAML 1.1 in practice and rely on merge keys (`<<: *anchor`), which YAML 1.2
  // dropped; `yaml` supports them when asked. Duplicate keys are errors, as in Compose.
  return parseYaml(text, { merge: true, uniqueKeys: true, prettyErrors: true }) as Json;
}

export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!match) throw new Error(`env file line ${index + 1} is not KEY=VALUE: ${raw}`);
    env[match[1]!] = match[2]!;
  }
  return env;
}

export interface Interpolated {
  doc: Json;
  problems: string[];
  /** Every variable the file names, and whether it must be set (`${VAR:?...}` / `${VAR?...}`). */
  variables: Map<string, { required: boolean; hasDefault: boolean }>;
}

/**
 * Compose's interpolation of string values: `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`,
 * `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}`. Nested
 * expressions inside a default are refused rather than guessed at (docker-compose 1.x cannot
 * read them either).
 */
export function interpolate(doc: Json, env: Record<string, string>): Interpolated {
  const problems: string[] = [];
  const variables = new Map<string, { required: boolean; hasDefault: boolean }>();
  const expression = /\$(?:\$|\{([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g;
  const one = (value: string, where: string): string =>
    value.replace(expression, (whole, braced: string | undefined, bare: string | undefined) => {
      if (whole === '$$') return '$';
      const body = braced ?? bare!;
      const parsed = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])(.*))?$/s.exec(body);
      if (!parsed) {
        problems.push(`${where}: cannot interpolate "${whole}"`);
        return whole;
      }
      const [, name, operator, argument = ''] = parsed;
      if (argument.includes('${'))
        problems.push(`${where}: nested interpolation in "${whole}" (not portable across Compose versions)`);
      const required = operator === ':?' || operator === '?';
      const previous = variables.get(name!);
      variables.set(name!, {
        required: required || (previous?.required ?? false),
        hasDefault: operator === ':-' || operator === '-' || (previous?.hasDefault ?? false),
      });
      const value = env[name!];
      const set = value !== undefined;
      const nonEmpty = set && value !== '';
      switch (operator) {
        case undefined:
          if (!set) problems.push(`${where}: \${${name}} is not set and has no default`);
          return value ?? '';
        case ':-':
          return nonEmpty ? value! : argument;
        case '-':
          return set ? value! : argument;
        case ':?':
          if (!nonEmpty) problems.push(`${where}: ${name} is required: ${argument}`);
          return value ?? '';
        case '?':
          if (!set) problems.push(`${where}: ${name} is required: ${argument}`);
          return value ?? '';
        case ':+':
          return nonEmpty ? argument : '';
        case '+':
          return set ? argument : '';
        default:
          return whole;
      }
    });
  const walk = (node: Json, where: string): Json => {
    if (typeof node === 'string') return one(node, where);
    if (Array.isArray(node)) return node.map((item, index) => walk(item, `${where}[${index}]`));
    if (node && typeof node === 'object')
      return Object.fromEntries(
        Object.entries(node).map(([key, value]) => [key, walk(value, where ? `${where}.${key}` : key)]),
      );
    return node;
  };
  return { doc: walk(doc, ''), problems, variables };
}

/** A service of the repository's docker-compose.yml, interpolated with `variables` as Compose would. */
export function composeService(composeText: string, name: string, variables: Record<string, string>): JsonObject {
  const { doc, problems } = interpolate(parseCompose(composeText), variables);
  if (problems.length) throw new Error(`docker-compose.yml does not interpolate: ${problems.join('; ')}`);
  const service = (doc as { services?: Record<string, JsonObject> }).services?.[name];
  if (!service) throw new Error(`docker-compose.yml has no service ${name}`);
  return service;
}

/** A service's environment as strings (map form, or the list form KEY=VALUE). */
export function serviceEnvironment(service: JsonObject): Record<string, string> {
  const env = service.environment;
  if (Array.isArray(env))
    return Object.fromEntries(
      env.map((entry) => {
        const [key, ...rest] = String(entry).split('=');
        return [key!, rest.join('=')];
      }),
    );
  if (env && typeof env === 'object')
    return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, value === null ? '' : String(value)]));
  return {};
}
