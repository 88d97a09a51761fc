import type pg from 'pg';
import type { BundleSelection } from '../bundle/select.js';
import { BundleSelectionError, selectRecords } from '../bundle/select.js';
import type { OcsfEvent, OcsfEventOptions } from './event.js';
import { ocsfEventMaker } from './event.js';
import { operationFacts } from './steps.js';
import { ACCOUNT_CHANGE } from './vocabulary.js';

export interface OcsfExport {
  /** One JSON object per line, in ledger order (chain, then seq). */
  lines: string[];
  records: number;
  operations: number;
  accountChanges: number;
}

/**
 * The selected records as OCSF events (docs/FORMAT.md section 19): one per decision and per step
 * record. Unlike a bundle, an export may span chains: each event names its own chain and seq.
 */
export async function exportOcsf(
  pool: pg.Pool,
  selection: BundleSelection,
  options: OcsfEventOptions,
): Promise<OcsfExport> {
  const selected = await selectRecords(pool, selection);
  if (!selected.length)
    throw new BundleSelectionError(
      'no records match: check the operation or correlation id, or the --from/--to window',
    );
  const records = selected.map((entry) => entry.record);
  const eventOf = ocsfEventMaker(operationFacts(records), options);
  const events = selected.map(eventOf).filter((event): event is OcsfEvent => event !== undefined);
  return {
    lines: events.map((event) => JSON.stringify(event)),
    records: selected.length,
    operations: new Set(records.map((record) => record.operationId).filter((id) => typeof id === 'string')).size,
    accountChanges: events.filter((event) => event.class_uid === ACCOUNT_CHANGE.classUid).length,
  };
}
