import { hostname } from 'node:os';
import type { ChainRouter } from '../ledger/chain-router.js';
import type pg from 'pg';
import type { LedgerAppender } from '../ledger/appender.js';
import type { RecordDraft } from '../ledger/record.js';

/** The record a worker appends when it starts, saying what the ledger can hold against it. */
export const WORKER_STARTED = 'worker.started';

/** What the worker's ledger login may do that a writ_writer login may not. */
export interface LoginFacts {
  login: string;
  superuser: boolean;
  bypassRls: boolean;
  /** Owner (or member of the owner) of writ.records: may disable its triggers and row-level security. */
  ownsLedger: boolean;
}

export async function inspectLogin(pool: pg.Pool): Promise<LoginFacts> {
  const { rows } = await pool.query<{ login: string; superuser: boolean; bypass_rls: boolean; owns_ledger: boolean }>(
    `SELECT current_user AS login, r.rolsuper AS superuser, r.rolbypassrls AS bypass_rls,
            pg_has_role(current_user, c.relowner, 'MEMBER') AS owns_ledger
       FROM pg_roles r, pg_class c
      WHERE r.rolname = current_user AND c.oid = 'writ.records'::regclass`,
  );
  const row = rows[0]!;
  return { login: row.login, superuser: row.superuser, bypassRls: row.bypass_rls, ownsLedger: row.owns_ledger };
}

/** Whether the checkpointer's login (WRIT_CHECKPOINT_DATABASE_URL, else the worker's) may write checkpoints. */
export async function canCheckpoint(pool: pg.Pool): Promise<boolean> {
  const { rows } = await pool.query<{ ok: boolean }>(
    `SELECT has_function_privilege('writ.merkle_extend(text, integer)', 'EXECUTE') AND has_table_privilege('writ.checkpoints', 'INSERT') AS ok`,
  );
  return rows[0]!.ok;
}

/** Each way this worker falls short of least privilege, as a sentence an operator can act on. */
export function startWarnings(facts: LoginFacts, signingKey: boolean, checkpointsWritable = true): string[] {
  const warnings: string[] = [];
  const powers = [
    facts.superuser && 'is a superuser',
    !facts.superuser && facts.bypassRls && 'bypasses row-level security',
    !facts.superuser && facts.ownsLedger && 'owns the ledger tables',
  ].filter(Boolean);
  if (powers.length) {
    warnings.push(
      `the worker's ledger login "${facts.login}" ${powers.join(' and ')}: it can disable the append-only triggers and rewrite records, so the ledger does not hold against whoever has this worker's credentials. Run the worker as a login holding writ_writer only (README, "Ledger roles").`,
    );
  }
  if (!signingKey) {
    warnings.push(
      'no signing key (WRIT_SIGNING_KEY): no checkpoint is signed or anchored, so a rewrite of the ledger by its owner goes undetected. Make one with `writ keygen`.',
    );
  } else if (!checkpointsWritable) {
    warnings.push(
      'the checkpoint login cannot write checkpoints (it lacks writ_checkpointer): every checkpoint will fail. Set WRIT_CHECKPOINT_DATABASE_URL to a login that holds it (README, "Ledger roles").',
    );
  }
  return warnings;
}

export function workerStartedDraft(
  facts: LoginFacts,
  context: { signingKey: boolean; taskQueue: string; namespace: string; warnings: string[]; chains?: ChainRouter },
): RecordDraft {
  return {
    type: WORKER_STARTED,
    // Tied to no operation: the home chain, where a single-chain deployment has every record.
    ...(context.chains ? { chain: context.chains.home } : {}),
    actor: { id: 'writ-worker', kind: 'service', groups: [] },
    payload: {
      login: facts.login,
      superuser: facts.superuser,
      bypassRls: facts.bypassRls,
      ownsLedger: facts.ownsLedger,
      signingKey: context.signingKey,
      taskQueue: context.taskQueue,
      namespace: context.namespace,
      ...(context.chains ? { chains: context.chains.spec } : {}),
      host: hostname(),
      pid: process.pid,
      warnings: context.warnings,
    },
  };
}

/**
 * Inspects the worker's ledger login, warns on stderr (loudly) and appends worker.started, so
 * that a worker run with more power than it needs is on the record, not only in a log.
 */
export async function recordWorkerStart(
  pool: pg.Pool,
  appender: LedgerAppender,
  context: {
    signingKey: boolean;
    checkpointsWritable?: boolean;
    taskQueue: string;
    namespace: string;
    chains?: ChainRouter;
  },
  warn: (line: string) => void,
): Promise<LoginFacts> {
  const facts = await inspectLogin(pool);
  const warnings = startWarnings(facts, context.signingKey, context.checkpointsWritable);
  for (const warning of warnings) warn(`WARNING: ${warning}`);
  await appender.append(workerStartedDraft(facts, { ...context, warnings }));
  return facts;
}
