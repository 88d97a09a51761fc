import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { globMatcher } from '../model/glob.js';
import { describeIssues } from '../model/issues.js';
import { WritError } from '../model/errors.js';

/**
 * Payload members Writ's own checks read (identity proofs, decision bindings, lifecycle): sealing
 * one would leave an auditor unable to re-check what it proves, so a configuration naming one is
 * refused rather than quietly weakening the evidence.
 */
const RESERVED_ACTOR_FIELDS = new Set([
  'action',
  'actorAsGiven',
  'approvalDigest',
  'approver',
  'approverGroups',
  'aud',
  'by',
  'claimedGroups',
  'contracts',
  'deadline',
  'decision',
  'digest',
  'directory',
  'directoryVersion',
  'dryRun',
  'envelope',
  'error',
  'exp',
  'identity',
  'identityVerified',
  'intent',
  'keyId',
  'kind',
  'labels',
  'method',
  'mode',
  'nonce',
  'ok',
  'operationId',
  'outcome',
  'path',
  'policy',
  'problems',
  'proof',
  'proofSha256',
  'reason',
  'required',
  'revision',
  'signature',
  'signatureValid',
  'signed',
  'target',
  'targets',
  'targetVersions',
  'use',
  'version',
]);

/**
 * Free text a step's records carry about its target (a verification's reason, a connector's or
 * database's error message) can quote the target's values: sealed whole, under the target's subject.
 * Only in step records: the operation's own `reason`s are decisions, which identity proofs bind.
 */
export const STEP_TEXT_MEMBERS = ['reason', 'error'];

/** Members of a step's records that hold states of the target: snapshots, previews, read-backs. */
export const STATE_MEMBERS = [
  'before',
  'after',
  'observed',
  'expected',
  'wouldChange',
  'restoring',
  'restored',
  'detail',
];

const fieldName = z.string().min(1).max(128);
const subjectTemplate = (placeholders: string[]) =>
  z
    .string()
    .min(1)
    .max(256)
    .refine((text) => [...text.matchAll(/\{([^}]*)\}/g)].every((m) => placeholders.includes(m[1]!)), {
      message: `a subject template may use only ${placeholders.map((p) => `{${p}}`).join(', ')}`,
    });

const targetRuleSchema = z.strictObject({
  connector: z.string().min(1),
  target: z.string().min(1),
  fields: z.array(fieldName).min(1),
  subject: subjectTemplate(['connector', 'target']).default('{connector}:{target}'),
});

const actorRuleSchema = z.strictObject({
  fields: z
    .array(fieldName)
    .min(1)
    .refine((names) => names.every((name) => !RESERVED_ACTOR_FIELDS.has(name)), {
      message: `names a member Writ's checks read (one of ${[...RESERVED_ACTOR_FIELDS].join(', ')}): it cannot be sealed`,
    }),
  subject: subjectTemplate(['actor']).default('person:{actor}'),
});

const retentionClassSchema = z.strictObject({
  class: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'a class is 1-64 lower-case letters, digits, "_", "." or "-"'),
  /** Record types the class covers, in Writ's glob (`approval.*`). */
  types: z.array(z.string().min(1)).min(1),
  /** How long values are kept after the record occurred: `90d`, `12w`, `18m`, `7y`. */
  keep: z.string().regex(/^[1-9][0-9]{0,3}[dwmy]$/, 'keep is a number and a unit: 90d, 12w, 18m or 7y'),
});

export const personalDataSchema = z.strictObject({
  targets: z.array(targetRuleSchema).default([]),
  actors: actorRuleSchema.optional(),
  retention: z
    .array(retentionClassSchema)
    .default([])
    .refine((classes) => new Set(classes.map((c) => c.class)).size === classes.length, {
      message: 'each retention class is named once',
    }),
});

export type RetentionClass = z.output<typeof retentionClassSchema>;

export type PersonalDataConfig = z.output<typeof personalDataSchema>;

/** Which members of one record are personal, under which data subject. */
export interface SealPlan {
  subject: string;
  fields: ReadonlySet<string>;
  /** Top-level payload members to search in; the whole payload when absent. */
  within?: readonly string[];
  /** Search nested objects too (states), or only the members named (free text). */
  deep: boolean;
}

export interface TargetRef {
  connector: string;
  target: string;
}

export class PersonalDataRules {
  private readonly targets: Array<{
    matches: (target: string) => boolean;
    rule: PersonalDataConfig['targets'][number];
  }>;

  constructor(readonly config: PersonalDataConfig) {
    this.targets = config.targets.map((rule) => ({ matches: globMatcher(rule.target), rule }));
  }

  /**
   * The plans for a step's target: its state members searched at any depth, and in the step's own
   * records (`stepRecord`) the free text that may quote them.
   */
  forTarget(ref: TargetRef, stepRecord: boolean): SealPlan[] {
    return this.targets
      .filter(({ rule, matches }) => rule.connector === ref.connector && matches(ref.target))
      .flatMap(({ rule }) => {
        const subject = rule.subject.replace(/\{connector\}/g, ref.connector).replace(/\{target\}/g, ref.target);
        const states: SealPlan = { subject, fields: new Set(rule.fields), within: STATE_MEMBERS, deep: true };
        return stepRecord ? [states, { subject, fields: new Set(STEP_TEXT_MEMBERS), deep: false }] : [states];
      });
  }

  /** A person's own free text, at the payload's top level. */
  forActor(actor: { id: string; kind: string }): SealPlan[] {
    const rule = this.config.actors;
    if (!rule || actor.kind !== 'user') return [];
    return [{ subject: rule.subject.replace(/\{actor\}/g, actor.id), fields: new Set(rule.fields), deep: false }];
  }

  get empty(): boolean {
    return !this.hasTargetRules && !this.config.actors;
  }

  get hasTargetRules(): boolean {
    return this.targets.length > 0;
  }
}

export function personalDataRules(source: unknown, origin = 'personal data configuration'): PersonalDataRules {
  const parsed = personalDataSchema.safeParse(source);
  if (!parsed.success)
    throw new WritError('CONFIG', `${origin} is not valid: ${describeIssues(parsed.error, { whole: '(file)' })}`);
  return new PersonalDataRules(parsed.data);
}

export function personalDataFromFile(path: string): PersonalDataRules {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new WritError('CONFIG', `cannot read the personal data configuration ${path}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new WritError('CONFIG', `${path} is not JSON: ${(error as Error).message}`);
  }
  return personalDataRules(json, path);
}
