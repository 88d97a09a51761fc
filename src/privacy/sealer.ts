import type pg from 'pg';
import type { RecordSealer } from '../ledger/append-types.js';
import type { CanonicalRecord, PreparedRecord } from '../ledger/record.js';
import { canonicalBytes } from '../verify/canonical.js';
import type { PersonalDataRules, SealPlan, TargetRef } from './personal-rules.js';
import type { SaltFor } from './seal-payload.js';
import { freshSalt, sealPayload } from './seal-payload.js';

/** Operations remembered at once: enough for every operation in flight, bounded for a long-lived worker. */
const REMEMBERED_OPERATIONS = 10_000;
const OPERATION_TARGETS = `SELECT operation_id, targets FROM writ.operations WHERE operation_id = ANY($1::text[])`;

/**
 * Seals what the configuration calls personal. A step's records are matched by the connector and
 * target of that step, which the operation's plan names: the plan record carries them, later
 * records find them in the operation's projection (read once per operation and remembered).
 */
export class PersonalDataSealer implements RecordSealer {
  private readonly targets = new Map<string, TargetRef[]>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly rules: PersonalDataRules,
  ) {}

  async seal(records: PreparedRecord[]): Promise<PreparedRecord[]> {
    if (this.rules.empty) return records;
    for (const { record } of records) {
      const planned = plannedTargets(record);
      if (planned && record.operationId) this.remember(record.operationId, planned);
    }
    // Only target rules need a step's target: with actor rules alone, no operation is looked up.
    if (this.rules.hasTargetRules)
      await this.loadTargets(records.map((p) => p.record.operationId).filter((id): id is string => id !== null));
    return records.map((prepared) => this.sealOne(prepared));
  }

  private sealOne(prepared: PreparedRecord): PreparedRecord {
    const plans = this.plansFor(prepared.record);
    if (!plans.length) return prepared;
    const sealWith = (saltFor: SaltFor): PreparedRecord => {
      const open = prepared.record;
      const { payload, sealed } = sealPayload(open.payload, plans, saltFor);
      if (!sealed.length) return prepared;
      const record: CanonicalRecord = { ...open, payload };
      return {
        record,
        canonical: canonicalBytes(record),
        sealed: {
          rows: sealed,
          open,
          reseal: (salts) => sealWith((pointer) => salts.get(pointer) ?? freshSalt(pointer)),
        },
      };
    };
    return sealWith(freshSalt);
  }

  private plansFor(record: CanonicalRecord): SealPlan[] {
    const targets = record.operationId ? (this.targets.get(record.operationId) ?? []) : [];
    const stepTargets = record.stepIndex === null ? targets : targets.filter((_, index) => index === record.stepIndex);
    const stepRecord = record.stepIndex !== null;
    return [
      ...stepTargets.flatMap((ref) => this.rules.forTarget(ref, stepRecord)),
      ...this.rules.forActor(record.actor),
    ];
  }

  private async loadTargets(operationIds: string[]): Promise<void> {
    const missing = [...new Set(operationIds)].filter((id) => !this.targets.has(id));
    if (!missing.length) return;
    const { rows } = await this.pool.query<{ operation_id: string; targets: unknown }>(OPERATION_TARGETS, [missing]);
    for (const row of rows) {
      const refs = targetRefs(row.targets);
      if (refs) this.remember(row.operation_id, refs);
    }
  }

  private remember(operationId: string, refs: TargetRef[]): void {
    this.targets.delete(operationId);
    this.targets.set(operationId, refs);
    if (this.targets.size > REMEMBERED_OPERATIONS) this.targets.delete(this.targets.keys().next().value!);
  }
}

function plannedTargets(record: CanonicalRecord): TargetRef[] | null {
  if (record.type !== 'operation.planned') return null;
  const envelope = record.payload.envelope as { targets?: unknown } | undefined;
  return targetRefs(envelope?.targets);
}

/** Targets in step order; a step the list does not describe is matched by no rule. */
function targetRefs(value: unknown): TargetRef[] | null {
  if (!Array.isArray(value)) return null;
  const refs: TargetRef[] = [];
  for (const entry of value as Array<Record<string, unknown>>) {
    const index = typeof entry?.stepIndex === 'number' ? entry.stepIndex : refs.length;
    if (typeof entry?.connector === 'string' && typeof entry.target === 'string')
      refs[index] = { connector: entry.connector, target: entry.target };
  }
  return refs;
}
