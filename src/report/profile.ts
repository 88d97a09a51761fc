import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { WritError } from '../model/errors.js';
import { describeIssues } from '../model/issues.js';

/** The population's columns a control can rest on (docs/COMPLIANCE.md says what each proves). */
export const COLUMNS = [
  'id',
  'intent',
  'requester',
  'requesterVerified',
  'targets',
  'mode',
  'risk',
  'approvals',
  'requestedAt',
  'approvedAt',
  'executedAt',
  'closedAt',
  'outcome',
  'whatHappened',
] as const;
export type Column = (typeof COLUMNS)[number];

/** Every kind of exception the report finds in the records. */
export const EXCEPTION_KINDS = [
  'no_approval',
  'self_approval',
  'approval_after_execution',
  'plan_changed_after_approval',
  'identity_not_verified',
  'approver_not_eligible',
  'emergency_unreviewed',
  'rollback',
  'compensation_failed',
  'manual_resolution',
  'manual_record',
  'evidence_access',
  'key_conflict',
] as const;
export type ExceptionKind = (typeof EXCEPTION_KINDS)[number];

const controlSchema = z.strictObject({
  id: z.string().min(1).max(64),
  title: z.string().min(1).max(300),
  objective: z.string().min(1).max(2000),
  columns: z.array(z.enum(COLUMNS)).min(1),
  exceptions: z.array(z.enum(EXCEPTION_KINDS)),
  /** The control rests on the completeness statement: the population is every change, none left out. */
  completeness: z.boolean().default(false),
});

const settingsSchema = z
  .strictObject({
    /** An emergency change must have a `manual.review` record within this many hours of its close. */
    emergencyReviewHours: z.number().positive().max(8760).default(72),
    /** The request label that marks an emergency change (labels are the requester's: it can only add scrutiny). */
    emergencyLabel: z
      .strictObject({ key: z.string().min(1), value: z.string().min(1) })
      .default({ key: 'change_class', value: 'emergency' }),
  })
  .default({ emergencyReviewHours: 72, emergencyLabel: { key: 'change_class', value: 'emergency' } });

export const profileSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'id must be lower-case letters, digits, ".", "_" or "-"'),
  title: z.string().min(1).max(300),
  framework: z.string().min(1).max(300),
  settings: settingsSchema,
  controls: z
    .array(controlSchema)
    .min(1, 'name at least one control')
    .refine((controls) => new Set(controls.map((c) => c.id)).size === controls.length, 'control ids must differ'),
});
export type Profile = z.output<typeof profileSchema>;
export type Control = Profile['controls'][number];

export const BUILT_IN_PROFILES = ['soc2', 'sox', 'iso27001', 'pci'] as const;

/** Shipped beside this module: tsc copies src/report/profiles/*.json into dist (tsconfig includes them). */
function builtInPath(name: string): string {
  return fileURLToPath(new URL(`./profiles/${name}.json`, import.meta.url));
}

/**
 * A built-in profile by name, or a JSON file by path (anything with a `/`, `\` or `.json`). A
 * profile that does not parse is refused with every problem named, so it is fixed in one pass.
 */
export async function loadProfile(nameOrPath: string): Promise<Profile> {
  const isPath = /[/\\]/.test(nameOrPath) || nameOrPath.endsWith('.json');
  if (!isPath && !(BUILT_IN_PROFILES as readonly string[]).includes(nameOrPath))
    throw new WritError(
      'USAGE',
      `unknown profile "${nameOrPath}": use one of ${BUILT_IN_PROFILES.join(', ')}, or the path of a profile file (JSON)`,
    );
  const path = isPath ? nameOrPath : builtInPath(nameOrPath);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new WritError('USAGE', `cannot read profile ${path}: ${(error as Error).message}`);
  }
  return parseProfile(text, path);
}

export function parseProfile(text: string, where: string): Profile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new WritError('USAGE', `profile ${where} is not JSON: ${(error as Error).message}`);
  }
  const parsed = profileSchema.safeParse(json);
  if (!parsed.success)
    throw new WritError(
      'USAGE',
      `profile ${where} is malformed: ${describeIssues(parsed.error, { whole: '(profile)' })}`,
      'docs/COMPLIANCE.md describes the profile format',
    );
  return parsed.data;
}
