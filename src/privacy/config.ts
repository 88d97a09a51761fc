import type pg from 'pg';
import type { AppenderOptions } from '../ledger/append-types.js';
import type { PersonalDataRules } from './personal-rules.js';
import { personalDataFromFile, personalDataRules } from './personal-rules.js';
import { PersonalDataSealer } from './sealer.js';

/** A file path or an object: what the plugin's `personalData` option and WRIT_PERSONAL_DATA give. */
export function loadPersonalData(source: string | object): PersonalDataRules {
  return typeof source === 'string' ? personalDataFromFile(source) : personalDataRules(source);
}

/** Appender options that seal what the configuration calls personal (unchanged when there is none). */
export function sealingAppenderOptions(
  pool: pg.Pool,
  rules: PersonalDataRules | undefined,
  options: AppenderOptions = {},
): AppenderOptions {
  return rules ? { ...options, sealer: new PersonalDataSealer(pool, rules) } : options;
}
