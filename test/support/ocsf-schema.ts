import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './cli.js';

/**
 * A small checker of OCSF events against test/fixtures/ocsf/ocsf-1.3.0.json, the class and object
 * definitions as the schema states them. It reports every problem: an unknown class, a missing
 * required attribute, an attribute the definition does not name, a value of the wrong type, an enum
 * value out of range, a caption that is not the enum's, an unmet at_least_one constraint, and a
 * type_uid that is not class_uid * 100 + activity_id.
 */

interface AttributeSpec {
  type: string;
  is_array?: boolean;
  requirement: 'required' | 'recommended' | 'optional';
  enum?: Record<string, string>;
  sibling?: string;
}

interface Definition {
  attributes: Record<string, AttributeSpec>;
  constraints?: { at_least_one?: string[] };
}

export interface OcsfFixture {
  version: string;
  types: Record<string, { base: string }>;
  classes: Record<string, Definition & { name: string; category_uid: number }>;
  objects: Record<string, Definition>;
}

export const OCSF_FIXTURE_PATH = join(REPO_ROOT, 'test', 'fixtures', 'ocsf', 'ocsf-1.3.0.json');

export function loadOcsfFixture(): OcsfFixture {
  return JSON.parse(readFileSync(OCSF_FIXTURE_PATH, 'utf8')) as OcsfFixture;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Every way `event` departs from the fixture's definition of its class; empty when it conforms. */
export function ocsfProblems(event: unknown, fixture: OcsfFixture): string[] {
  if (!isObject(event)) return ['the event is not a JSON object'];
  const definition = fixture.classes[String(event.class_uid)];
  if (!definition) return [`unknown class_uid ${JSON.stringify(event.class_uid)}`];
  const problems: string[] = [];
  checkObject(event, definition, '', fixture, problems);
  if (event.type_uid !== Number(event.class_uid) * 100 + Number(event.activity_id))
    problems.push(`type_uid ${String(event.type_uid)} is not class_uid * 100 + activity_id`);
  if (event.category_uid !== definition.category_uid)
    problems.push(`category_uid ${String(event.category_uid)} is not ${definition.category_uid}`);
  const metadata = isObject(event.metadata) ? event.metadata : {};
  if (metadata.version !== fixture.version)
    problems.push(`metadata.version ${String(metadata.version)} is not ${fixture.version}`);
  return problems;
}

function checkObject(
  value: Record<string, unknown>,
  definition: Definition,
  path: string,
  fixture: OcsfFixture,
  problems: string[],
): void {
  for (const [name, spec] of Object.entries(definition.attributes))
    if (spec.requirement === 'required' && value[name] === undefined)
      problems.push(`${path}${name}: required, missing`);
  for (const [name, item] of Object.entries(value)) {
    const spec = definition.attributes[name];
    if (!spec) problems.push(`${path}${name}: not an attribute of this class or object`);
    else checkValue(item, spec, `${path}${name}`, fixture, problems);
  }
  const oneOf = definition.constraints?.at_least_one;
  if (oneOf && !oneOf.some((name) => value[name] !== undefined))
    problems.push(`${path.replace(/\.$/, '') || 'the event'}: needs at least one of ${oneOf.join(', ')}`);
  for (const [name, spec] of Object.entries(definition.attributes)) {
    const caption = spec.enum?.[String(value[name])];
    if (caption && spec.sibling && value[name] !== 99 && value[spec.sibling] !== undefined)
      if (value[spec.sibling] !== caption)
        problems.push(`${path}${spec.sibling}: ${JSON.stringify(value[spec.sibling])} is not the caption ${caption}`);
  }
}

function checkValue(value: unknown, spec: AttributeSpec, path: string, fixture: OcsfFixture, problems: string[]): void {
  if (!spec.is_array) return checkScalar(value, spec, path, fixture, problems);
  if (!Array.isArray(value)) return void problems.push(`${path}: expected an array of ${spec.type}`);
  value.forEach((item, index) => checkScalar(item, spec, `${path}[${index}]`, fixture, problems));
}

function checkScalar(
  value: unknown,
  spec: AttributeSpec,
  path: string,
  fixture: OcsfFixture,
  problems: string[],
): void {
  const object = fixture.objects[spec.type];
  if (object) {
    if (!isObject(value)) problems.push(`${path}: expected a ${spec.type} object`);
    else checkObject(value, object, `${path}.`, fixture, problems);
    return;
  }
  if (spec.type === 'object') {
    if (!isObject(value)) problems.push(`${path}: expected a JSON object`);
    return;
  }
  const base = fixture.types[spec.type]?.base;
  if (!base) return void problems.push(`${path}: type ${spec.type} is not described in the fixture`);
  if (!baseTypeHolds(base, value)) return void problems.push(`${path}: ${JSON.stringify(value)} is not a ${spec.type}`);
  if (spec.enum && !(String(value) in spec.enum))
    problems.push(`${path}: ${JSON.stringify(value)} is not one of ${Object.keys(spec.enum).join(', ')}`);
}

function baseTypeHolds(base: string, value: unknown): boolean {
  switch (base) {
    case 'string_t':
      return typeof value === 'string';
    case 'integer_t':
      return Number.isInteger(value) && Math.abs(value as number) <= 2 ** 31;
    case 'long_t':
      return Number.isSafeInteger(value);
    case 'float_t':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean_t':
      return typeof value === 'boolean';
    case 'json_t':
      return value !== undefined;
    default:
      return false;
  }
}
