import { EventType } from '../../model/events.js';
import { EFFECTS } from '../../model/policy.js';
import type { Effect } from '../../model/policy.js';

/**
 * What an exported event may say about a step: who its connector is, what was asked, of which
 * target, and what kind of change it makes. Never its params or any state: those are values,
 * and values stay in the ledger.
 */
export interface StepFacts {
  connector: string;
  action: string;
  /** The target in the connector's canonical spelling (`public.accounts/42`). */
  target: string;
  /** The canonical identity (`postgres:public.accounts/42`): what account-target patterns match. */
  identity: string;
  effect: Effect;
}

export interface OperationFacts {
  dryRun: boolean;
  steps: Map<number, StepFacts>;
}

type LedgerRecord = Record<string, unknown>;

const text = (value: unknown): string | undefined => (typeof value === 'string' && value ? value : undefined);
const object = (value: unknown): Record<string, unknown> =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

/** Only for steps recorded before policy.decided named each step's effect. */
function effectOfAction(action: string): Effect {
  if (action === 'create' || action === 'insert') return 'create';
  if (action === 'delete') return 'delete';
  if (action === 'update' || action === 'upsert') return 'modify';
  return 'unknown';
}

function effectOf(value: unknown, action: string): Effect {
  return (EFFECTS as readonly unknown[]).includes(value) ? (value as Effect) : effectOfAction(action);
}

/** A step as `policy.decided` (`payload.steps`) or the envelope (`targets`) names it; undefined when malformed. */
function stepFacts(entry: unknown): [number, StepFacts] | undefined {
  const step = object(entry);
  const connector = text(step.connector);
  const action = text(step.action);
  const target = text(step.target);
  if (typeof step.stepIndex !== 'number' || !connector || !action || !target) return undefined;
  const identity = text(step.identity) ?? `${connector}:${target}`;
  return [step.stepIndex, { connector, action, target, identity, effect: effectOf(step.effect, action) }];
}

function factsOf(facts: Map<string, OperationFacts>, operationId: string): OperationFacts {
  let found = facts.get(operationId);
  if (!found) facts.set(operationId, (found = { dryRun: false, steps: new Map() }));
  return found;
}

function addSteps(into: OperationFacts, entries: unknown, overwrite: boolean): void {
  if (!Array.isArray(entries)) return;
  for (const entry of entries) {
    const facts = stepFacts(entry);
    if (facts && (overwrite || !into.steps.has(facts[0]))) into.steps.set(...facts);
  }
}

/**
 * Each operation's steps, read from its own records: the envelope's targets (operation.planned),
 * then policy's reading of them (policy.decided), which knows each step's effect and wins.
 */
export function operationFacts(records: readonly LedgerRecord[]): Map<string, OperationFacts> {
  const facts = new Map<string, OperationFacts>();
  for (const record of records) {
    const operationId = text(record.operationId);
    if (!operationId) continue;
    const payload = object(record.payload);
    if (record.type === EventType.operationPlanned) {
      const envelope = object(payload.envelope);
      const operation = factsOf(facts, operationId);
      operation.dryRun = envelope.mode === 'dry-run';
      addSteps(operation, envelope.targets, false);
    } else if (record.type === EventType.policyDecided) {
      addSteps(factsOf(facts, operationId), payload.steps, true);
    } else if (record.type === EventType.stepExecuting) {
      addSteps(factsOf(facts, operationId), [payload.target], false);
    }
  }
  return facts;
}
