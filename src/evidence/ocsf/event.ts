import { globMatcher } from '../../model/glob.js';
import type { BundleRecord } from '../bundle/select.js';
import type { OcsfObject } from './actors.js';
import { actorOf, deciderOf } from './actors.js';
import type { DecisionMeaning, StepMeaning } from './meaning.js';
import { STEP_MEANINGS, accountActivity, apiActivity, decisionMeaning } from './meaning.js';
import type { OperationFacts, StepFacts } from './steps.js';
import type { Activity, OcsfClass, Severity, Status } from './vocabulary.js';
import { ACCOUNT_CHANGE, API_ACTIVITY, OCSF_SCHEMA_VERSION, otherActivity } from './vocabulary.js';

/**
 * One ledger record as one OCSF event (docs/FORMAT.md section 19), or nothing when the record is
 * neither a decision nor a step record. Built from the record's envelope and the operation's step
 * facts only: no payload value (states, params, reasons, error texts) is ever copied.
 */

export interface OcsfEventOptions {
  /** Writ's version, for metadata.product.version. */
  productVersion: string;
  /** Globs over a step's identity (`postgres:public.users/*`): steps whose target is an account. */
  accountTargets: readonly string[];
}

export type OcsfEvent = OcsfObject;

interface Context {
  entry: BundleRecord;
  operations: ReadonlyMap<string, OperationFacts>;
  isAccount: (identity: string) => boolean;
  productVersion: string;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value ? value : undefined);
const object = (value: unknown): Record<string, unknown> =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

export function ocsfEventMaker(
  operations: ReadonlyMap<string, OperationFacts>,
  options: OcsfEventOptions,
): (entry: BundleRecord) => OcsfEvent | undefined {
  const matchers = options.accountTargets.map(globMatcher);
  const isAccount = (identity: string) => matchers.some((matches) => matches(identity));
  return (entry) => {
    const context: Context = { entry, operations, isAccount, productVersion: options.productVersion };
    const type = String(entry.record.type);
    const step = STEP_MEANINGS.get(type);
    if (step) return stepEvent(context, step);
    const decision = decisionMeaning(type, object(entry.record.payload));
    return decision ? decisionEvent(context, decision) : undefined;
  };
}

interface Classified {
  ocsfClass: OcsfClass;
  activity: Activity;
  status: Status;
  severity: Severity;
  message: string;
}

function timeOf(entry: BundleRecord): number {
  const time = Date.parse(String(entry.record.occurredAt));
  if (Number.isNaN(time))
    throw new Error(`record ${entry.seq} of chain ${entry.chain} has no valid occurredAt: it cannot be exported`);
  return time;
}

/** What every event carries: class and activity, time, outcome, and the way back to its ledger record. */
function common(context: Context, what: Classified, writ: OcsfObject): OcsfEvent {
  const { entry } = context;
  const { ocsfClass, activity, status, severity } = what;
  const record = entry.record;
  return {
    class_uid: ocsfClass.classUid,
    class_name: ocsfClass.className,
    category_uid: ocsfClass.categoryUid,
    category_name: ocsfClass.categoryName,
    activity_id: activity.id,
    activity_name: activity.name,
    type_uid: ocsfClass.classUid * 100 + activity.id,
    type_name: `${ocsfClass.className}: ${activity.name}`,
    time: timeOf(entry),
    timezone_offset: 0,
    severity_id: severity.id,
    severity: severity.name,
    status_id: status.id,
    status: status.name,
    status_code: String(record.type),
    message: what.message,
    metadata: {
      product: { name: 'Writ', vendor_name: 'Writ', version: context.productVersion },
      version: OCSF_SCHEMA_VERSION,
      uid: String(record.eventId),
      ...(text(record.correlationId) ? { correlation_uid: record.correlationId } : {}),
      log_name: 'writ.records',
      log_provider: 'Writ',
      original_time: String(record.occurredAt),
      sequence: entry.seq,
    },
    src_endpoint: { svc_name: 'writ-worker' },
    unmapped: {
      writ: {
        chain: entry.chain,
        seq: entry.seq,
        hash: entry.hash.toString('hex'),
        type: record.type,
        operation_id: record.operationId ?? null,
        step_index: record.stepIndex ?? null,
        state: record.state ?? null,
        ...writ,
      },
    },
  };
}

function targetResource(facts: StepFacts): OcsfObject {
  return { uid: facts.identity, name: facts.target, type: facts.connector };
}

function operationResource(operationId: string): OcsfObject {
  return { uid: operationId, name: operationId, type: 'writ.operation' };
}

function stepEvent(context: Context, meaning: StepMeaning): OcsfEvent {
  const record = context.entry.record;
  const operationId = text(record.operationId) ?? 'unknown';
  const operation = context.operations.get(operationId);
  const stepIndex = typeof record.stepIndex === 'number' ? record.stepIndex : -1;
  const facts = operation?.steps.get(stepIndex);
  const dryRun = operation?.dryRun ?? false;
  const subject = facts ? `${facts.connector}.${facts.action} of ${facts.identity}` : 'of an unknown target';
  const message = `step ${stepIndex} ${subject} ${meaning.outcome}${dryRun ? ' (dry run)' : ''}`;
  const writ = { dry_run: dryRun, ...(facts ? { connector: facts.connector, action: facts.action } : {}) };
  const outcome = { status: meaning.status, severity: meaning.severity, message };
  // A dry run changes nothing, so it is never an account change, whatever its target.
  if (facts && !dryRun && context.isAccount(facts.identity)) {
    const activity = accountActivity(meaning.phase, facts);
    return {
      ...common(context, { ocsfClass: ACCOUNT_CHANGE, activity, ...outcome }, { ...writ, target: facts.identity }),
      actor: actorOf(record.actor),
      user: { uid: facts.identity },
    };
  }
  const activity = apiActivity(meaning.phase, facts);
  return {
    ...common(context, { ocsfClass: API_ACTIVITY, activity, ...outcome }, writ),
    actor: actorOf(record.actor),
    api: {
      operation: facts ? `${facts.connector}.${facts.action}` : 'unknown',
      service: { name: facts?.connector ?? 'unknown' },
      request: { uid: `${operationId}/step/${stepIndex}` },
    },
    resources: [...(facts ? [targetResource(facts)] : []), operationResource(operationId)],
  };
}

function decisionEvent(context: Context, meaning: DecisionMeaning): OcsfEvent {
  const record = context.entry.record;
  const payload = object(record.payload);
  const operationId = text(record.operationId) ?? 'unknown';
  const steps = [...(context.operations.get(operationId)?.steps.values() ?? [])];
  const actor = meaning.decider
    ? deciderOf(payload[meaning.decider], meaning.deciderGroups ? payload[meaning.deciderGroups] : undefined)
    : { ...actorOf(record.actor), app_name: 'Writ' };
  const who = String(object(actor.user).uid);
  const message = meaning.says(who, operationId);
  const writ = meaning.decider ? identityOf(payload) : {};
  return {
    ...common(
      context,
      { ocsfClass: API_ACTIVITY, activity: otherActivity(meaning.activity), ...outcomeOf(meaning), message },
      writ,
    ),
    actor,
    api: { operation: meaning.operation, service: { name: 'Writ' }, request: { uid: operationId } },
    resources: [operationResource(operationId), ...steps.map(targetResource)],
  };
}

const outcomeOf = (meaning: DecisionMeaning) => ({ status: meaning.status, severity: meaning.severity });

/** How the decider's identity was established: a channel name and whether it was verified, never the proof. */
function identityOf(payload: Record<string, unknown>): OcsfObject {
  const channel = text(object(payload.identity).channel);
  return {
    ...(channel ? { identity_channel: channel } : {}),
    ...(typeof payload.identityVerified === 'boolean' ? { identity_verified: payload.identityVerified } : {}),
    ...(typeof payload.signed === 'boolean' ? { signed: payload.signed } : {}),
  };
}
