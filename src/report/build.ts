import type pg from 'pg';
import type { LedgerCheckOptions } from '../evidence/ledger-check.js';
import { EventType } from '../model/events.js';
import type { Completeness } from './completeness.js';
import { checkCompleteness } from './completeness.js';
import type { ReportException } from './exceptions.js';
import { findExceptions } from './exceptions.js';
import type { LinkSettings, WhatHappenedLink } from './links.js';
import { whatHappenedLink } from './links.js';
import type { Profile } from './profile.js';
import type { PopulationRow } from './population.js';
import { byOperation, populationRow } from './population.js';
import type { ReportRecord, Window } from './read.js';
import { readDirectories, readReviews, readWindow } from './read.js';

export interface ComplianceReport {
  format: 'writ-compliance-report/1';
  generatedAt: string;
  window: { from: string; to: string };
  profile: Profile;
  population: Array<PopulationRow & { whatHappened: WhatHappenedLink; exceptions: string[] }>;
  exceptions: Array<ReportException & { whatHappened: WhatHappenedLink | null }>;
  completeness: Completeness;
  /** Records in the window outside any operation of the population (hand-written, evidence reads). */
  otherRecords: number;
}

export interface ReportOptions {
  profile: Profile;
  window: Window;
  /** How the chain and its checkpoints are checked: the log's origin, anchors, pinned key. */
  ledger: Omit<LedgerCheckOptions, 'projection' | 'deep'>;
  links: LinkSettings | null;
  now?: Date;
}

/** Reads the window from the ledger (SELECT only: a writ_reader login suffices) and judges it. */
export async function buildReport(pool: pg.Pool, options: ReportOptions): Promise<ComplianceReport> {
  const now = options.now ?? new Date();
  const read = await readWindow(pool, options.window);
  if (!read.operations.length && !read.loose.length) throw new EmptyWindowError(options.window, read.straddling);
  const recordsOf = byOperation(read.operations);
  const rows = [...recordsOf].map(([id, records]) => populationRow(id, records));
  rows.sort((a, b) =>
    a.requestedAt < b.requestedAt ? -1 : a.requestedAt > b.requestedAt ? 1 : a.firstSeq - b.firstSeq,
  );
  const directories = await readDirectories(pool, directoryVersions(read.operations));
  const reviews = await readReviews(
    pool,
    rows.map((r) => r.id),
  );
  const exceptions = findExceptions({
    profile: options.profile,
    rows,
    recordsOf,
    loose: read.loose,
    directories,
    reviews,
    now,
  });
  const completeness = await checkCompleteness(
    pool,
    [...read.operations, ...read.loose],
    read.straddling,
    options.ledger,
  );
  const link = (id: string) => whatHappenedLink(id, options.links);
  return {
    format: 'writ-compliance-report/1',
    generatedAt: now.toISOString(),
    window: { from: options.window.from.toISOString(), to: options.window.to.toISOString() },
    profile: options.profile,
    population: rows.map((row) => ({
      ...row,
      whatHappened: link(row.id),
      exceptions: [...new Set(exceptions.filter((e) => e.operationId === row.id).map((e) => e.kind))],
    })),
    exceptions: exceptions.map((e) => ({ ...e, whatHappened: e.operationId === null ? null : link(e.operationId) })),
    completeness,
    otherRecords: read.loose.length,
  };
}

/** Every directory version a decision or a policy decision names, so eligibility is judged by the one in force. */
function directoryVersions(records: readonly ReportRecord[]): string[] {
  const versions = new Set<string>();
  for (const record of records) {
    const named =
      record.type === EventType.policyDecided
        ? (record.payload.decision as { directoryVersion?: unknown } | undefined)?.directoryVersion
        : record.payload.directoryVersion;
    if (typeof named === 'string') versions.add(named);
  }
  return [...versions];
}

/** Nothing in the window to report on: no operation began in it and no other record was written in it. */
export class EmptyWindowError extends Error {
  override readonly name = 'EmptyWindowError';
  constructor(window: Window, straddling: readonly string[]) {
    super(
      `no records in the window ${window.from.toISOString()} to ${window.to.toISOString()}: no operation began in it and nothing was recorded by hand or read from the evidence${straddling.length ? ` (${straddling.length} operation(s) that began earlier have records in it: widen --from to include them)` : ''}; check --from and --to (times are the records' occurredAt, UTC)`,
    );
  }
}
