import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import type { ApproverDirectoryInput } from '../approvals/directory.js';
import type { PolicyInput } from '../model/policy.js';

/**
 * The outside systems the story writes to, all set up by the demo itself: a small CRM schema in
 * the demo database (the postgres connector) and a directory of notes (the files connector).
 */
const CRM_SQL = `
  CREATE SCHEMA crm;
  CREATE TABLE crm.accounts (id text PRIMARY KEY, name text NOT NULL, tier text NOT NULL);
  INSERT INTO crm.accounts VALUES ('acme', 'Acme Corp', 'silver'), ('initech', 'Initech', 'bronze');
  CREATE TABLE crm.prices (sku text PRIMARY KEY, price numeric(10, 2) NOT NULL, floor numeric(10, 2) NOT NULL);
  INSERT INTO crm.prices VALUES ('widget', 12.00, 10.00);

  -- Stands in for another system's rule that the automation knows nothing about: no price may go
  -- below its floor. It rewrites the row after the write, inside the writer's own transaction, so
  -- the writer's RETURNING shows what it wrote while everyone reading later sees the floor.
  CREATE FUNCTION crm.enforce_price_floor() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    UPDATE crm.prices SET price = NEW.floor WHERE sku = NEW.sku;
    RETURN NULL;
  END $$;
  CREATE TRIGGER price_floor AFTER INSERT OR UPDATE ON crm.prices
    FOR EACH ROW WHEN (NEW.price < NEW.floor) EXECUTE FUNCTION crm.enforce_price_floor();

  -- The postgres connector's login (src/db/logins.ts) may write these tables and nothing else.
  GRANT USAGE ON SCHEMA crm TO writ_connector;
  GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA crm TO writ_connector;
`;

export const DEMO_POLICY: PolicyInput = {
  id: 'demo-policy',
  // No `identity`: requests and decisions must prove who sent them, as policy asks by default.
  rules: [
    {
      name: 'account-changes-need-a-manager',
      match: { connector: 'postgres', target: 'crm.accounts/*' },
      risk: 'high',
      approvals: { required: 1, fromGroups: ['managers'], windowMs: 3_600_000 },
      reason: "an account's tier decides what the customer is billed",
    },
    {
      name: 'price-changes-are-watched',
      match: { connector: 'postgres', target: 'crm.prices/*' },
      risk: 'medium',
      reason: 'prices change often; verification and rollback are the safety net',
    },
  ],
};

/**
 * alice is a manager too, so the only reason her own approval is refused is that she asked. She
 * signs her requests with her key; both sign in at the development identity provider to decide.
 */
export function demoApprovers(alicePublicKey: string): ApproverDirectoryInput {
  return {
    approvers: [
      { id: 'alice', groups: ['sales-ops', 'managers'], email: 'alice@example.com', publicKey: alicePublicKey },
      { id: 'bob', groups: ['managers'], email: 'bob@example.com' },
    ],
    // Automations prove who they are with a token from the identity provider (client credentials).
    requesters: [
      { id: 'pricing-bot', kind: 'service', groups: ['automation'] },
      { id: 'cleanup-bot', kind: 'service', groups: ['automation'] },
    ],
  };
}

export interface DemoFiles {
  /** The demo's own directory, which holds the rest. */
  dir: string;
  filesRoot: string;
  policyFile: string;
  approversFile: string;
}

/** The CRM tables in the demo database, before the story writes to them. */
export async function createCrmTables(pool: pg.Pool): Promise<void> {
  await pool.query(CRM_SQL);
}

/** The notes directory, and the policy and approvers the worker reads, as files a user can open. */
export async function writeDemoFiles(workDir: string, alicePublicKey: string): Promise<DemoFiles> {
  const filesRoot = join(workDir, 'files');
  await mkdir(join(filesRoot, 'notes'), { recursive: true });
  const policyFile = join(workDir, 'policy.json');
  const approversFile = join(workDir, 'approvers.json');
  await writeFile(policyFile, `${JSON.stringify(DEMO_POLICY, null, 2)}\n`);
  await writeFile(approversFile, `${JSON.stringify(demoApprovers(alicePublicKey), null, 2)}\n`);
  return { dir: workDir, filesRoot, policyFile, approversFile };
}
