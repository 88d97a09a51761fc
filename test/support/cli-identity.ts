import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestLedger } from './db.js';
import { freshLedger, temporalAddress } from './db.js';
import type { KeyPair } from './identity.js';
import { spawnWorker } from './worker-process.js';

/** What an operator's machine holds: files for the policy, the directory, keys and requests; a running worker. */
export interface OperatorMachine {
  ledger: TestLedger;
  env: Record<string, string>;
  file(name: string, content: string | object): string;
  keyFile(name: string, key: KeyPair): string;
}

/** A ledger with the accounts table, the policy and directory on disk, and `writ worker` running on them. */
export async function operatorMachine(
  t: Parameters<typeof freshLedger>[0],
  policy: object,
  directory: object,
): Promise<OperatorMachine> {
  const ledger = await freshLedger(t);
  await ledger.pool.query(`CREATE TABLE accounts (id int PRIMARY KEY, name text NOT NULL, tier text NOT NULL)`);
  await ledger.pool.query(`INSERT INTO accounts VALUES (42, 'Acme', 'silver')`);
  const dir = mkdtempSync(join(tmpdir(), 'writ-cli-identity-'));
  const file = (name: string, content: string | object) => {
    const path = join(dir, name);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  };
  const env = {
    DATABASE_URL: ledger.url,
    WRIT_POSTGRES_CONNECTOR_ALLOW_LEDGER_DATABASE: 'true',
    TEMPORAL_ADDRESS: temporalAddress(),
    WRIT_TASK_QUEUE: `cli-${randomUUID()}`,
    WRIT_POLICY_FILE: file('policy.json', policy),
    WRIT_APPROVERS_FILE: file('directory.json', directory),
  };
  const worker = await spawnWorker(env);
  t.after(() => worker.stop());
  return {
    ledger,
    env,
    file,
    keyFile: (name, key) => file(name, key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()),
  };
}
