/**
 * The load the cluster fault test puts on Writ: accounts that need a manager's approval (some
 * approved, some rejected, some overruled by the target's own trigger and rolled back) and
 * routine notes whose table is slow to write, so that writes are executing when faults strike.
 * An audit trigger counts every change each target row sees.
 */
import assert from 'node:assert/strict';
import type pg from 'pg';
import type { OperationRequestInput } from '../../../src/model/request.js';

export interface LoadRequest {
  kind: 'account' | 'note';
  id: number;
  /** What happens to it: approved, rejected, or approved and then overruled (rolled back). */
  fate: 'approve' | 'reject' | 'overruled' | 'routine';
  input: OperationRequestInput;
}

const actor = { id: 'alice', kind: 'user' as const, groups: ['sales-ops'] };

export function expectedOutcome(request: LoadRequest): string {
  return { approve: 'succeeded', routine: 'succeeded', reject: 'rejected', overruled: 'rolled_back' }[request.fate];
}

function account(id: number): LoadRequest {
  const fate = id % 10 === 0 ? 'overruled' : id % 10 === 5 ? 'reject' : 'approve';
  const tier = fate === 'overruled' ? 'diamond' : 'gold';
  return {
    kind: 'account',
    id,
    fate,
    input: {
      actor,
      intent: `account ${id} to ${tier}`,
      steps: [{ connector: 'postgres', action: 'update', target: `public.accounts/${id}`, params: { set: { tier } } }],
    },
  };
}

function note(id: number): LoadRequest {
  return {
    kind: 'note',
    id,
    fate: 'routine',
    input: {
      actor,
      intent: `note ${id}`,
      steps: [
        { connector: 'postgres', action: 'update', target: `public.notes/${id}`, params: { set: { body: 'v2' } } },
      ],
    },
  };
}

export const faultLoad = {
  requests(accounts: number, notes: number): LoadRequest[] {
    const load: LoadRequest[] = [];
    // Interleaved, so both kinds are in flight from the start.
    for (let i = 1; i <= Math.max(accounts, notes); i++) {
      if (i <= accounts) load.push(account(i));
      if (i <= notes) load.push(note(i));
    }
    return load;
  },

  async createTables(targets: pg.Pool, accounts: number, notes: number): Promise<void> {
    await targets.query(`
      CREATE TABLE accounts (id int PRIMARY KEY, tier text NOT NULL);
      CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL);
      CREATE TABLE changes (n bigserial PRIMARY KEY, tbl text NOT NULL, row_id int NOT NULL, before text, after text);
      INSERT INTO accounts SELECT g, 'silver' FROM generate_series(1, ${accounts}) g;
      INSERT INTO notes SELECT g, 'v1' FROM generate_series(1, ${notes}) g;
      CREATE FUNCTION no_diamonds() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.tier = 'diamond' THEN NEW.tier := 'platinum'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER no_diamonds BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION no_diamonds();
      CREATE FUNCTION slow_notes() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_sleep(0.2); RETURN NEW; END $$;
      CREATE TRIGGER slow_notes BEFORE UPDATE ON notes FOR EACH ROW EXECUTE FUNCTION slow_notes();
      CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO changes (tbl, row_id, before, after)
            VALUES (TG_TABLE_NAME, NEW.id, to_jsonb(OLD)::text, to_jsonb(NEW)::text);
          RETURN NEW;
        END $$;
      CREATE TRIGGER audit_accounts AFTER UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION audit();
      CREATE TRIGGER audit_notes AFTER UPDATE ON notes FOR EACH ROW EXECUTE FUNCTION audit();
    `);
  },

  async closed(owner: pg.Pool): Promise<number> {
    const result = await owner.query(
      `SELECT count(*)::int AS n FROM writ.records WHERE event_type = 'operation.closed'`,
    );
    return result.rows[0].n as number;
  },

  async awaiting(owner: pg.Pool): Promise<number> {
    const result = await owner.query(
      `SELECT count(DISTINCT operation_id)::int AS n FROM writ.records WHERE event_type = 'approval.requested'`,
    );
    return result.rows[0].n as number;
  },

  /** Each row ends as its operation's outcome says, having changed exactly as often as it says. */
  async assertTargets(targets: pg.Pool, accounts: number, notes: number): Promise<void> {
    const rows = await targets.query(`
      SELECT 'accounts' AS tbl, a.id, a.tier AS value, (SELECT count(*)::int FROM changes c WHERE c.tbl = 'accounts' AND c.row_id = a.id) AS changes FROM accounts a
      UNION ALL
      SELECT 'notes', n.id, n.body, (SELECT count(*)::int FROM changes c WHERE c.tbl = 'notes' AND c.row_id = n.id) FROM notes n`);
    const seen = new Map(rows.rows.map((row) => [`${row.tbl}/${row.id}`, row as { value: string; changes: number }]));
    for (let id = 1; id <= accounts; id++) {
      const { fate } = account(id);
      const expected =
        fate === 'approve'
          ? { value: 'gold', changes: 1 }
          : fate === 'reject'
            ? { value: 'silver', changes: 0 }
            : { value: 'silver', changes: 2 }; // the write, then its compensation
      const got = seen.get(`accounts/${id}`);
      assert.deepEqual({ value: got?.value, changes: got?.changes }, expected, `accounts/${id} (${fate})`);
    }
    for (let id = 1; id <= notes; id++) {
      const got = seen.get(`notes/${id}`);
      assert.deepEqual({ value: got?.value, changes: got?.changes }, { value: 'v2', changes: 1 }, `notes/${id}`);
    }
  },

  /** One chain with no gap; no record twice; every operation closed once. */
  async assertLedger(owner: pg.Pool, operationIds: string[]): Promise<void> {
    const chain = await owner.query(
      `SELECT chain_id, count(*)::int AS n, min(seq)::int AS first, max(seq)::int AS last FROM writ.records GROUP BY 1`,
    );
    assert.equal(chain.rows.length, 1, 'one chain');
    const { n, first, last } = chain.rows[0];
    assert.equal(first, 1);
    assert.equal(n, last, `no gap: ${n} records, the last numbered ${last}`);
    const duplicates = await owner.query(
      `SELECT operation_id, event_type, record->'stepIndex' AS step, count(*)::int AS n FROM writ.records
        WHERE event_type IN ('operation.planned', 'operation.validated', 'operation.closed', 'approval.requested',
          'approval.granted', 'approval.rejected', 'step.executed', 'step.verified', 'step.compensated')
        GROUP BY 1, 2, 3 HAVING count(*) > 1`,
    );
    assert.deepEqual(duplicates.rows, [], 'no record appended twice');
    const closed = await owner.query(
      `SELECT count(DISTINCT operation_id)::int AS n FROM writ.records WHERE event_type = 'operation.closed' AND operation_id = ANY($1)`,
      [operationIds],
    );
    assert.equal(closed.rows[0].n, operationIds.length, 'every operation closed');
  },
};
