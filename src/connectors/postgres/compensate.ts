import type { JsonObject } from '../../model/json.js';
import type { ActionCall, RollbackResult, Snapshot } from '../types.js';
import type { RowDatabase } from './database.js';
import { readRow } from './read.js';
import { once, putRow } from './write.js';

/** Puts the row back as it was before the write (removes it when there was none), once per key. */
export async function rollback(
  db: RowDatabase,
  actionName: string,
  call: ActionCall<unknown>,
  { idempotencyKey, before }: { idempotencyKey: string; before: Snapshot },
): Promise<RollbackResult> {
  await db.tableFor(call.target);
  const { after } = await once(
    db,
    `${idempotencyKey}/rollback`,
    call.target,
    `${actionName}:rollback`,
    async (client) => {
      const { info, key } = await db.tableFor(call.target, client);
      await readRow(client, info, key, true);
      return putRow(client, info, key, before.state as JsonObject | null);
    },
  );
  return { restored: after };
}
