import type { ActionCall, Execution, Snapshot } from '../types.js';
import type { ActionKind } from './actions.js';
import type { ResourceApi } from './resource.js';

// The state the snapshot saw is not checked here: a retried activity snapshots again and finds
// its own first write, which the API recognises by the Idempotency-Key and answers as before.
export async function execute<P>(
  api: ResourceApi,
  kind: ActionKind<P>,
  { target, params }: ActionCall<P>,
  { idempotencyKey, before }: { idempotencyKey: string; before: Snapshot },
): Promise<Execution> {
  const result = await api.write(target, { ...kind.request(target, params, before), idempotencyKey });
  const detail = { status: result.status, attempts: result.attempts };
  if (kind.intended(params, before.state) === null) return { after: null, detail: { ...detail, etag: null } };
  if (result.returned !== undefined) return { after: result.returned, detail: { ...detail, etag: result.etag } };
  const readBack = await api.read(target);
  return { after: readBack.state, detail: { ...detail, etag: readBack.etag } };
}
