import type { JsonObject } from '../../model/json.js';
import type { ActionCall, RollbackResult, Snapshot } from '../types.js';
import { same } from './compare.js';
import { requireEtag } from './read.js';
import type { ResourceApi, Write } from './resource.js';

/** Puts the whole previous representation back with PUT, or deletes what the write created. */
export async function rollback(
  api: ResourceApi,
  { target }: ActionCall<unknown>,
  { idempotencyKey, before }: { idempotencyKey: string; before: Snapshot },
): Promise<RollbackResult> {
  const current = await api.read(target);
  // Already as it was (an earlier rollback whose answer was lost, or nothing took effect).
  if (same(current.state, before.state)) return { restored: current.state, detail: { alreadyRestored: true } };
  const precondition =
    current.state === null ? { 'if-none-match': '*' as const } : { 'if-match': requireEtag(target, current) };
  const restore: Write = {
    ...(before.state === null ? { method: 'DELETE' } : { method: 'PUT', body: before.state }),
    precondition,
    idempotencyKey: `${idempotencyKey}/rollback`,
    preconditionFailed: `${target} changed while it was being rolled back; read it and decide by hand`,
  };
  const result = await api.write(target, restore);
  const restored = before.state === null ? null : (result.returned ?? (await api.read(target)).state);
  const detail: JsonObject = { status: result.status, etag: result.etag, attempts: result.attempts };
  return { restored, detail };
}
