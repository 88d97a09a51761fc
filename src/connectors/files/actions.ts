import { z } from 'zod';
import type { Effect } from '../../model/policy.js';
import type { Intended } from './change.js';
import type { Place } from './paths.js';
import type { OnDisk } from './state.js';
import { isBase64 } from './state.js';

/** Predictable whatever the worker's umask; a replace keeps the file's own mode. */
export const NEW_FILE_MODE = 0o644;

export const octal = (mode: number) => mode.toString(8).padStart(4, '0');

const contentParams = z
  .strictObject({
    content: z.string(),
    encoding: z.enum(['utf8', 'base64']).optional(),
  })
  .refine((p) => p.encoding !== 'base64' || isBase64(p.content), { path: ['content'], message: 'is not valid base64' });

type ContentParams = z.infer<typeof contentParams>;

/** One action: what the file should be afterwards, and when the action cannot run at all. */
export interface Kind<P> {
  name: 'write' | 'replace' | 'delete';
  effect: Effect;
  params: z.ZodType<P>;
  /** `currentMode`: the file's mode now, null when it is absent. */
  intended(params: P, currentMode: number | null): Intended;
  problems(place: Place, current: OnDisk): string[];
  summary(target: string, before: Intended, after: Intended): string;
}

const bytesOf = (params: ContentParams) => Buffer.from(params.content, params.encoding ?? 'utf8');

export const write: Kind<ContentParams> = {
  name: 'write',
  effect: 'create',
  params: contentParams,
  intended: (params) => ({ bytes: bytesOf(params), mode: NEW_FILE_MODE }),
  problems: (place, current) => [
    ...(place.directoryExists
      ? []
      : [`the directory of ${place.target} does not exist; this connector creates files, not directories`]),
    ...(current.bytes === undefined ? [] : [`${place.target} already exists; use replace`]),
  ],
  summary: (target, _before, after) =>
    `would create ${target} (${after?.bytes.length ?? 0} bytes, mode ${octal(after?.mode ?? NEW_FILE_MODE)})`,
};

export const replace: Kind<ContentParams> = {
  name: 'replace',
  effect: 'modify',
  params: contentParams,
  intended: (params, currentMode) => ({ bytes: bytesOf(params), mode: currentMode ?? NEW_FILE_MODE }),
  problems: (place, current) => (current.bytes === undefined ? [`${place.target} does not exist; use write`] : []),
  summary: (target, before, after) =>
    `would replace ${target} (${before?.bytes.length ?? 0} → ${after?.bytes.length ?? 0} bytes, mode ${octal(after?.mode ?? NEW_FILE_MODE)} kept)`,
};

export const remove: Kind<Record<string, never>> = {
  name: 'delete',
  effect: 'delete',
  params: z.strictObject({}),
  intended: () => null,
  problems: (place, current) => (current.bytes === undefined ? [`${place.target} does not exist`] : []),
  summary: (target, before) => `would delete ${target} (${before?.bytes.length ?? 0} bytes)`,
};
