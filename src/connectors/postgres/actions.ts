import { z } from 'zod';
import { canonicalText } from '../../verify/canonical.js';
import type { Effect } from '../../model/policy.js';
import type { Json, JsonObject } from '../../model/json.js';
import type { Snapshot } from '../types.js';
import type { TableInfo } from './table.js';
import { unknownColumns } from './table.js';

/** What sets one action of the connector apart from the others; the steps around it are shared. */
export interface RowChange<P> {
  name: string;
  params: z.ZodType<P>;
  /** The whole row the call makes of the row before it (null: no row). */
  intended(params: P, before: JsonObject | null, key: string, info: TableInfo): JsonObject | null;
  /** What the call asks the row to hold afterwards (null: no row). */
  requested(params: P, key: string, info: TableInfo): JsonObject | null;
  check(params: P, before: JsonObject | null, info: TableInfo, key: string): string[];
  effect(before: Snapshot): { effect: Effect; action: string };
}

/** A value as messages quote it: canonical JSON, cut at 80 characters. */
export const clip = (value: Json | undefined) => {
  const text = canonicalText(value ?? null);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
};

const values = z
  .record(z.string().min(1), z.json())
  .refine((v) => Object.keys(v).length > 0, 'must set at least one column');

const unknown = (info: TableInfo, row: Record<string, unknown>) => {
  const bad = unknownColumns(info, row);
  return bad.length ? [`params: table ${info.name} has no column(s) ${bad.join(', ')}`] : [];
};

// The target's key is what policy matched and the ledger names: values may repeat it, not change it.
const sameKey = (field: string, row: JsonObject, info: TableInfo, key: string) =>
  info.primaryKey in row && String(row[info.primaryKey]) !== key
    ? [
        `params.${field}.${info.primaryKey}: ${clip(row[info.primaryKey])} is not the target's key ${key}; leave it out or make it the same`,
      ]
    : [];

const valuesParams = z.strictObject({ values });
const setParams = z.strictObject({ set: values });
const noParams = z.strictObject({});

export const insert: RowChange<z.infer<typeof valuesParams>> = {
  name: 'insert',
  params: valuesParams,
  intended: (p, _before, key, info) => ({ ...p.values, [info.primaryKey]: p.values[info.primaryKey] ?? key }),
  requested: (p, key, info) => ({ ...p.values, [info.primaryKey]: key }),
  check: (p, before, info, key) => [
    ...unknown(info, p.values),
    ...sameKey('values', p.values, info, key),
    ...(before ? [`row already exists in ${info.name}; use update or upsert`] : []),
  ],
  effect: () => ({ effect: 'create', action: 'insert' }),
};

export const update: RowChange<z.infer<typeof setParams>> = {
  name: 'update',
  params: setParams,
  intended: (p, before) => ({ ...(before ?? {}), ...p.set }),
  requested: (p) => ({ ...p.set }),
  check: (p, before, info) => [
    ...unknown(info, p.set),
    ...(before ? [] : [`no row with that key in ${info.name}`]),
    ...(info.primaryKey in p.set ? [`params.set: the primary key ${info.primaryKey} cannot be changed`] : []),
  ],
  effect: () => ({ effect: 'modify', action: 'update' }),
};

export const upsert: RowChange<z.infer<typeof valuesParams>> = {
  name: 'upsert',
  params: valuesParams,
  intended: (p, before, key, info) => ({
    ...(before ?? {}),
    ...p.values,
    [info.primaryKey]: before?.[info.primaryKey] ?? p.values[info.primaryKey] ?? key,
  }),
  requested: (p, key, info) => ({ ...p.values, [info.primaryKey]: key }),
  check: (p, _before, info, key) => [...unknown(info, p.values), ...sameKey('values', p.values, info, key)],
  // An upsert is what it does: an update of a row that is there, an insert of one that is not.
  effect: (before) =>
    before.state === null ? { effect: 'create', action: 'insert' } : { effect: 'modify', action: 'update' },
};

export const remove: RowChange<z.infer<typeof noParams>> = {
  name: 'delete',
  params: noParams,
  intended: () => null,
  requested: () => null,
  check: (_p, before, info) => (before ? [] : [`no row with that key in ${info.name}`]),
  effect: () => ({ effect: 'delete', action: 'delete' }),
};
