import type pg from 'pg';
import { recordsCsv, selectRecords } from '../evidence/bundle/export.js';
import type { TimelineEvent } from '../evidence/what-happened/index.js';
import { whatHappenedJson } from '../evidence/what-happened/index.js';
import type { Evidence } from './evidence.js';

export interface Download {
  body: Buffer;
  contentType: string;
  fileName: string;
}

/**
 * The bundle's records.csv (docs/FORMAT.md 10.4) for the id: one row per record, with the
 * "approver differs from requester" column, so a sample taken here matches one taken from a bundle.
 */
export async function csvDownload(pool: pg.Pool, id: string): Promise<Download> {
  const records = await selectRecords(pool, { id });
  return {
    body: Buffer.from(recordsCsv(records), 'utf8'),
    contentType: 'text/csv; charset=utf-8',
    fileName: `writ-${fileSafe(id)}.csv`,
  };
}

/** What `writ what-happened <id> --timeline --json` prints: the summary and every record. */
export function jsonDownload(evidence: Evidence & { events: TimelineEvent[] }): Download {
  const body = `${JSON.stringify(whatHappenedJson(evidence.summary, evidence.id, evidence.events), null, 2)}\n`;
  return {
    body: Buffer.from(body, 'utf8'),
    contentType: 'application/json; charset=utf-8',
    fileName: `writ-${fileSafe(evidence.id)}.json`,
  };
}

/** An id in a Content-Disposition file name: ids are free text, file names are not. */
function fileSafe(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100) || 'evidence';
}
