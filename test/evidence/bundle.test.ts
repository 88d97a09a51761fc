import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type pg from 'pg';
import { postgresConnector } from '../../src/connectors/postgres/index.js';
import { verifyBundle } from '../../src/verify/bundle/verify.js';
import { manifestNoteText } from '../../src/verify/bundle/format.js';
import { sha256Hex } from '../../src/verify/hash.js';
import { parseVerifierKey, signNote } from '../../src/verify/note.js';
import type { CliResult } from '../support/cli.js';
import { REPO_ROOT, runCommand, runWrit } from '../support/cli.js';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import { freshLedger } from '../support/db.js';
import { tamper } from '../support/records.js';
import { KEY_NAME, keygen } from '../support/signing-key.js';
import { withHooks } from '../support/hooked-connector.js';
import { startWrit, updateTier, waitForState } from '../support/writ.js';
import { ASSERTED_IDENTITIES } from '../support/identities.js';

const PYTHON_VERIFIER = join(REPO_ROOT, 'test', 'evidence', 'independent_verifier.py');

function writ(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runWrit(args, { env });
}

interface BundleJson {
  findings: Array<{ code: string; file: string; seq?: number }>;
}

/** `writ verify-bundle --json`: the exit code and the findings, which name a code, a file and maybe a record. */
async function verifyJson(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult & { verdict: BundleJson }> {
  const result = await writ(['verify-bundle', ...args, '--json'], env);
  return { ...result, verdict: JSON.parse(result.stdout) as BundleJson };
}

function codes(verdict: BundleJson): Array<[string, string, number | undefined]> {
  return verdict.findings.map((f) => [f.code, f.file, f.seq]);
}

const approvers = {
  approvers: [
    { id: 'alice', groups: ['sales-ops'] },
    { id: 'bob', groups: ['managers'] },
  ],
};
const policy = {
  id: 'bundle-test',
  identity: ASSERTED_IDENTITIES,
  rules: [
    {
      name: 'acme-needs-a-manager',
      match: { connector: 'postgres', target: 'public.accounts/42' },
      risk: 'high',
      approvals: { required: 1, fromGroups: ['managers'] },
    },
    { name: 'globex-is-routine', match: { connector: 'postgres', target: 'public.accounts/43' }, risk: 'low' },
  ],
};

interface Scenario {
  env: NodeJS.ProcessEnv;
  dir: string;
  /** The ledger's owner login, as the test's own. */
  pool: pg.Pool;
  verifierKey: string;
  approved: string;
  rolledBack: string;
  approvedBundle: string;
  rolledBackBundle: string;
}

/**
 * One ledger, two real governed writes that interleave: Acme's waits for approval while Globex's
 * runs, fails verification and is rolled back; then bob approves Acme's. Acme's records are
 * therefore not consecutive in the chain. Both are exported (no checkpoint exists yet: export signs one).
 */
async function scenario(t: Parameters<typeof startWrit>[0]): Promise<Scenario> {
  let verifications = 0;
  const { ledger, writ: client } = await startWrit(t, {
    policy,
    approvers,
    connectors: (l) => [
      withHooks(postgresConnector({ pool: l.pool, allowLedgerDatabase: true }), {
        beforeVerify: async () => {
          if (++verifications === 1) await l.pool.query(`UPDATE accounts SET tier = 'bronze' WHERE id = 43`);
        },
      }),
    ],
  });
  const dir = mkdtempSync(join(tmpdir(), 'writ-bundle-'));
  const { verifierKey, env: signing } = await keygen(dir);
  const env = {
    DATABASE_URL: ledger.url,
    ...signing,
    WRIT_ANCHOR_DIR: join(dir, 'anchors'),
    WRIT_VERIFIER_KEY: '',
  };

  const { operationId: approved } = await client.start(updateTier());
  await waitForState(client, approved, 'awaiting_approval');
  const { operationId: rolledBack } = await client.start(
    updateTier({
      intent: 'move Globex to platinum',
      steps: [
        {
          connector: 'postgres',
          action: 'update',
          target: 'public.accounts/43',
          params: { set: { tier: 'platinum' } },
        },
      ],
    }),
  );
  assert.equal((await client.result(rolledBack)).outcome, 'rolled_back');
  assert.equal((await client.approve(approved, { approver: 'bob', reason: 'renewal confirmed' })).accepted, true);
  assert.equal((await client.result(approved)).outcome, 'succeeded');

  const approvedBundle = join(dir, 'approved');
  const rolledBackBundle = join(dir, 'rolled-back');
  const first = await writ(['export', approved, '--out', approvedBundle], env);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.match(first.stderr, /signed a new checkpoint of chain main/);
  const second = await writ(['export', rolledBack, '--out', rolledBackBundle], env);
  assert.equal(second.code, 0, second.stdout + second.stderr);
  return { env, dir, pool: ledger.pool, verifierKey, approved, rolledBack, approvedBundle, rolledBackBundle };
}

function readDir(dir: string): Map<string, Buffer> {
  return new Map(
    readdirSync(dir)
      .sort()
      .map((name) => [name, readFileSync(join(dir, name))]),
  );
}

interface ProofsV2 {
  nodes: string[];
  proofs: Array<{ seq: number; leafIndex: number; path: number[] }>;
}

interface Statement {
  _type: string;
  subject: Array<{ name: string; digest: { sha256: string } }>;
  predicate: {
    operationId: string;
    outcome: string | null;
    approvals: Array<{ type: string; approver: string; approverDiffersFromRequester: boolean }>;
  };
}

function statementOf(dir: string, operationId: string): Statement {
  const statements = readFileSync(join(dir, 'statements.intoto.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(Buffer.from(JSON.parse(line).payload, 'base64').toString('utf8')));
  return statements.find((statement) => statement.predicate.operationId === operationId);
}

function python(args: string[]): Promise<CliResult> {
  return runCommand('python3', [PYTHON_VERIFIER, ...args]);
}

describe('evidence bundles', () => {
  test('export writes a bundle that verify-bundle and an independent Python verifier accept, and any changed byte is caught', async (t) => {
    const s = await scenario(t);
    const files = readDir(s.approvedBundle);
    assert.deepEqual(
      [...files.keys()].filter((name) => !name.startsWith('governance.')),
      [
        'README.md',
        'checkpoint.txt',
        'key.pub',
        'manifest.json',
        'manifest.sig',
        'proofs.json',
        'records.csv',
        'records.jsonl',
        'statements.intoto.jsonl',
      ],
    );
    // The policy and the directory of people the operation was decided under.
    assert.deepEqual(
      [...files.keys()].filter((name) => name.startsWith('governance.')).map((name) => name.split('.')[1]),
      ['directory', 'policy'],
    );

    // The operation's records are not consecutive in the chain: the rolled-back one ran in between.
    const own = readFileSync(join(s.approvedBundle, 'records.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { seq: number; canonical: string })
      .filter((line) => JSON.parse(Buffer.from(line.canonical, 'base64').toString('utf8')).operationId === s.approved);
    const seqs = own.map((line) => line.seq);
    assert.ok(
      seqs.some((seq, i) => i > 0 && seq !== seqs[i - 1]! + 1),
      `expected a gap in ${seqs.join(',')}`,
    );

    const statement = statementOf(s.approvedBundle, s.approved);
    assert.equal(statement._type, 'https://in-toto.io/Statement/v1');
    assert.equal(statement.predicate.outcome, 'succeeded');
    assert.equal(statement.subject.length, seqs.length);
    assert.ok(
      statement.predicate.approvals.some(
        (a) => a.type === 'approval.granted' && a.approver === 'bob' && a.approverDiffersFromRequester === true,
      ),
    );
    assert.equal(statementOf(s.rolledBackBundle, s.rolledBack).predicate.outcome, 'rolled_back');
    const csv = readFileSync(join(s.approvedBundle, 'records.csv'), 'utf8');
    assert.match(
      csv,
      /^operation,seq,occurredAt,type,state,actor,step,target,before,after,approver,approverDiffersFromRequester\r\n/,
    );
    assert.match(csv, /,approval\.granted,.*,bob,yes\r\n/);

    for (const bundle of [s.approvedBundle, s.rolledBackBundle]) {
      const ok = await writ(['verify-bundle', bundle, '--verifier-key', s.verifierKey], s.env);
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      assert.match(
        ok.stdout,
        /intact, \d+ records of chain main, 1 operation\(s\), every record included in checkpoint acme\.example\/writ\/main@/,
      );
      const py = await python([bundle, '--verifier-key', s.verifierKey]);
      assert.equal(py.code, 0, py.stdout + py.stderr);
    }

    // Every file, many offsets: the pure verifier names the changed file each time.
    const key = parseVerifierKey(s.verifierKey);
    for (const [name, bytes] of files) {
      const offsets = new Set([
        0,
        1,
        2,
        Math.floor(bytes.length / 3),
        Math.floor(bytes.length / 2),
        bytes.length - 3,
        bytes.length - 2,
        bytes.length - 1,
      ]);
      for (const offset of offsets) {
        for (const mask of [0x01, 0x80]) {
          const copy = new Map(files);
          const changed = Buffer.from(bytes);
          changed[offset]! ^= mask;
          copy.set(name, changed);
          const verdict = await verifyBundle(copy, { verifierKey: key });
          assert.equal(verdict.ok, false, `${name} byte ${offset} ^ ${mask} was not detected`);
          assert.ok(
            verdict.findings.some((f) => f.file === name),
            `${name} byte ${offset}: findings name ${verdict.findings.map((f) => f.file).join(', ')}`,
          );
        }
      }
    }
    // And through the CLI, one changed byte per file: exit 1 naming the file.
    for (const name of files.keys()) {
      const copy = join(s.dir, `flip-${name}`);
      cpSync(s.approvedBundle, copy, { recursive: true });
      const bytes = readFileSync(join(copy, name));
      bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
      writeFileSync(join(copy, name), bytes);
      const result = await verifyJson([copy, '--verifier-key', s.verifierKey], s.env);
      assert.equal(result.code, 1, `${name}: ${result.stdout}${result.stderr}`);
      assert.ok(
        result.verdict.findings.some((f) => f.file === name),
        `${name} is not named: ${result.stdout}`,
      );
    }
    // An extra file is damage too.
    const extra = join(s.dir, 'extra');
    cpSync(s.approvedBundle, extra, { recursive: true });
    writeFileSync(join(extra, 'notes.txt'), 'hi\n');
    const withExtra = await verifyJson([extra, '--verifier-key', s.verifierKey], s.env);
    assert.equal(withExtra.code, 1);
    assert.deepEqual(codes(withExtra.verdict), [['FILE_UNLISTED', 'notes.txt', undefined]]);
  });

  test('a tampered record is caught by both verifiers, naming the record, even with the manifest recomputed', async (t) => {
    const s = await scenario(t);
    const copy = join(s.dir, 'tampered');
    cpSync(s.approvedBundle, copy, { recursive: true });
    const lines = readFileSync(join(copy, 'records.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const victim = lines[2]!;
    const record = JSON.parse(Buffer.from(victim.canonical, 'base64').toString('utf8'));
    record.payload = { ...record.payload, note: 'this never happened' };
    victim.canonical = Buffer.from(JSON.stringify(record)).toString('base64');
    writeFileSync(join(copy, 'records.jsonl'), lines.map((line) => `${JSON.stringify(line)}\n`).join(''));

    const result = await verifyJson([copy, '--verifier-key', s.verifierKey], s.env);
    assert.equal(result.code, 1);
    const found = codes(result.verdict);
    assert.deepEqual(
      found.filter(([code]) => code === 'HASH_MISMATCH'),
      [['HASH_MISMATCH', 'records.jsonl', victim.seq]],
    );
    assert.deepEqual(
      found.filter(([code]) => code === 'INCLUSION_PROOF_INVALID'),
      [['INCLUSION_PROOF_INVALID', 'proofs.json', victim.seq]],
    );
    const py = await python([copy, '--verifier-key', s.verifierKey]);
    assert.equal(py.code, 1, py.stdout + py.stderr);
    assert.match(py.stdout, /records\.jsonl/);
    assert.match(py.stdout, new RegExp(`seq ${victim.seq}`));
  });

  test('proofs name shared nodes; a bent path, an unnamed node, a place off the list or a format-1 manifest is caught', async (t) => {
    const s = await scenario(t);
    const key = parseVerifierKey(s.verifierKey);
    const files = readDir(s.approvedBundle);
    assert.equal(JSON.parse(files.get('manifest.json')!.toString('utf8')).format, 'writ-bundle/3');
    const proofs = JSON.parse(files.get('proofs.json')!.toString('utf8')) as ProofsV2;
    const named = proofs.proofs.reduce((sum, p) => sum + p.path.length, 0);
    assert.ok(proofs.nodes.length < named, `${proofs.nodes.length} nodes for ${named} path entries: nothing is shared`);
    assert.equal(new Set(proofs.proofs.flatMap((p) => p.path)).size, proofs.nodes.length);

    // An insider with the log's signing key: the manifest is recomputed and signed again, so only
    // the proofs themselves can give the change away.
    const signer = { name: KEY_NAME, privateKey: createPrivateKey(readFileSync(s.env.WRIT_SIGNING_KEY!)) };
    const tampered = async (name: string, change: (copy: ProofsV2, manifest: { format: string }) => void) => {
      const copy = structuredClone(proofs);
      const manifest = JSON.parse(files.get('manifest.json')!.toString('utf8')) as {
        format: string;
        files: Array<{ name: string; sha256: string; size: number }>;
      };
      change(copy, manifest);
      const dir = join(s.dir, name);
      cpSync(s.approvedBundle, dir, { recursive: true });
      const proofBytes = Buffer.from(`${JSON.stringify(copy)}\n`);
      writeFileSync(join(dir, 'proofs.json'), proofBytes);
      const entry = manifest.files.find((f) => f.name === 'proofs.json')!;
      entry.sha256 = sha256Hex(proofBytes);
      entry.size = proofBytes.length;
      const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 1)}\n`);
      writeFileSync(join(dir, 'manifest.json'), manifestBytes);
      writeFileSync(join(dir, 'manifest.sig'), signNote(manifestNoteText(manifestBytes), signer));
      const verdict = await verifyBundle(readDir(dir), { verifierKey: key });
      const py = await python([dir, '--verifier-key', s.verifierKey]);
      assert.equal(py.code, 1, `${name}: ${py.stdout}${py.stderr}`);
      assert.match(py.stdout, /proofs\.json/, name);
      return { findings: verdict.findings.map((f) => [f.code, f.file, f.seq]), python: py.stdout };
    };

    const victim = proofs.proofs.find((p) => p.path.length >= 2)!;
    const bent = await tampered('bent', (copy) => {
      const path = copy.proofs.find((p) => p.seq === victim.seq)!.path;
      [path[0], path[1]] = [path[1]!, path[0]!];
    });
    assert.deepEqual(bent.findings, [['INCLUSION_PROOF_INVALID', 'proofs.json', victim.seq]]);
    assert.match(bent.python, new RegExp(`proofs\\.json.*seq ${victim.seq}`));

    const unnamed = await tampered('unnamed', (copy) => void copy.nodes.push(Buffer.alloc(32, 7).toString('base64')));
    assert.deepEqual(unnamed.findings, [['PROOFS_MALFORMED', 'proofs.json', undefined]]);

    const off = await tampered('off', (copy) => {
      copy.proofs.find((p) => p.seq === victim.seq)!.path[0] = copy.nodes.length;
    });
    assert.deepEqual(
      off.findings.filter(([code]) => code !== 'PROOFS_MALFORMED'),
      [['PROOF_MALFORMED', 'proofs.json', victim.seq]],
    );

    const oldManifest = await tampered('format-1', (_copy, manifest) => void (manifest.format = 'writ-bundle/1'));
    assert.deepEqual(
      oldManifest.findings.filter(([, file]) => file === 'proofs.json'),
      [['PROOFS_MALFORMED', 'proofs.json', undefined]],
    );
    // Format 1 also had a statement file an operation.
    assert.ok(
      oldManifest.findings.some(([code, file]) => code === 'STATEMENT_MALFORMED' && file === 'statements.intoto.jsonl'),
      JSON.stringify(oldManifest.findings),
    );
  });

  test("an owner's edit of a record's jsonb copy does not reach a bundle: its statements are made from the bytes", async (t) => {
    const s = await scenario(t);
    // The copy that what-happened and reports read, edited behind Writ's back: the rollback now reads as a success.
    await tamper(
      s.pool,
      `UPDATE writ.records SET record = jsonb_set(record, '{payload,outcome}', '"succeeded"')
        WHERE operation_id = $1 AND record->>'type' = 'operation.closed'`,
      [s.rolledBack],
    );
    const edited = await s.pool.query<{ outcome: string }>(
      `SELECT record->'payload'->>'outcome' AS outcome FROM writ.records WHERE operation_id = $1 AND record->>'type' = 'operation.closed'`,
      [s.rolledBack],
    );
    assert.equal(edited.rows[0]!.outcome, 'succeeded');
    const out = join(s.dir, 'after-edit');
    const exported = await writ(['export', s.rolledBack, '--out', out], s.env);
    assert.equal(exported.code, 0, exported.stdout + exported.stderr);
    assert.equal(statementOf(out, s.rolledBack).predicate.outcome, 'rolled_back');
    const ok = await writ(['verify-bundle', out, '--verifier-key', s.verifierKey], s.env);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  });

  test("a wrong verifier key is refused; without one the bundle's key.pub is used with a warning; export needs a signing key and an empty directory", async (t) => {
    const s = await scenario(t);
    const other = await runWrit(['keygen', '--out', join(s.dir, 'other'), '--name', 'acme-writ']);
    assert.equal(other.code, 0);
    const otherKey = readFileSync(join(s.dir, 'other', 'acme-writ.pub'), 'utf8').trim();
    const wrong = await verifyJson([s.approvedBundle, '--verifier-key', otherKey], s.env);
    assert.equal(wrong.code, 1, wrong.stdout + wrong.stderr);
    const wrongCodes = codes(wrong.verdict);
    assert.ok(
      wrongCodes.some(([code, file]) => code === 'MANIFEST_UNKNOWN_KEY' && file === 'manifest.sig'),
      wrong.stdout,
    );
    assert.ok(
      wrongCodes.some(([code, file]) => code === 'CHECKPOINT_UNKNOWN_KEY' && file === 'checkpoint.txt'),
      wrong.stdout,
    );
    const pyWrong = await python([s.approvedBundle, '--verifier-key', otherKey]);
    assert.equal(pyWrong.code, 1, pyWrong.stdout + pyWrong.stderr);

    const selfKeyed = await writ(['verify-bundle', s.approvedBundle], s.env);
    assert.equal(selfKeyed.code, 3, selfKeyed.stdout + selfKeyed.stderr);
    assert.match(selfKeyed.stderr, /proves only that the bundle is internally consistent/);
    assert.match(selfKeyed.stderr, /signer is unknown: pin the log's public key with --verifier-key/);

    const fromFile = await writ(
      ['verify-bundle', s.approvedBundle, '--verifier-key', join(s.dir, 'keys', 'acme-writ.pub')],
      s.env,
    );
    assert.equal(fromFile.code, 0, fromFile.stdout + fromFile.stderr);

    const unusable = await writ(['verify-bundle', s.approvedBundle, '--verifier-key', 'acme+nothex+AAAA'], s.env);
    assert.equal(unusable.code, 2);

    const noKey = await writ(['export', s.approved, '--out', join(s.dir, 'nokey')], { ...s.env, WRIT_SIGNING_KEY: '' });
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /writ keygen --out/);
    assert.equal(existsSync(join(s.dir, 'nokey')), false);

    const notEmpty = await writ(['export', s.approved, '--out', s.approvedBundle], s.env);
    assert.equal(notEmpty.code, 2);
    assert.match(notEmpty.stderr, /is not empty/);

    const unknown = await writ(['export', 'no-such-operation', '--out', join(s.dir, 'unknown')], s.env);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no records match/);
    assert.equal(existsSync(join(s.dir, 'unknown')), false, 'a failed export leaves no directory behind');

    // A time window selects both operations; the checkpoint already covers them, so none is signed.
    const window = await writ(
      [
        'export',
        '--from',
        new Date(Date.now() - 3600_000).toISOString(),
        '--to',
        new Date(Date.now() + 60_000).toISOString(),
        '--out',
        join(s.dir, 'window'),
      ],
      s.env,
    );
    assert.equal(window.code, 0, window.stdout + window.stderr);
    assert.doesNotMatch(window.stderr, /signed a new checkpoint/);
    assert.match(window.stdout, /of 2 operation\(s\)/);
    const both = await writ(['verify-bundle', join(s.dir, 'window'), '--verifier-key', s.verifierKey], s.env);
    assert.equal(both.code, 0, both.stdout + both.stderr);
    const pyBoth = await python([join(s.dir, 'window'), '--verifier-key', s.verifierKey]);
    assert.equal(pyBoth.code, 0, pyBoth.stdout + pyBoth.stderr);
  });

  test('when a forger signs a bundle of their own with a fresh key, it is "signer unknown" (exit 3) without a pinned key and damaged (exit 1) with the real one', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'writ-forged-'));
    const real = await keygen(join(dir, 'real'));
    // The forger runs a ledger of their own, with a key of their own under the real key's name.
    const forger = await keygen(join(dir, 'forger'));
    assert.notEqual(forger.verifierKey, real.verifierKey);
    const ledger = await freshLedger(t);
    await new GroupCommitAppender(ledger.pool).appendAll([
      {
        type: 'manual.note',
        operationId: 'op-forged',
        actor: { id: 'bob', kind: 'user' },
        payload: { message: 'Acme moved to gold, approved by bob' },
      },
    ]);
    const forged = join(dir, 'forged');
    const env = {
      DATABASE_URL: ledger.url,
      ...forger.env,
      WRIT_ANCHOR_DIR: join(dir, 'anchors'),
      WRIT_VERIFIER_KEY: '',
    };
    const exported = await writ(['export', 'op-forged', '--out', forged], env);
    assert.equal(exported.code, 0, exported.stdout + exported.stderr);

    const unpinned = await writ(['verify-bundle', forged], env);
    assert.equal(unpinned.code, 3, unpinned.stdout + unpinned.stderr);
    assert.match(unpinned.stdout, /internally consistent, but its signer is unknown/);
    assert.doesNotMatch(unpinned.stdout, /intact/);
    assert.match(unpinned.stderr, /pin the log's public key with --verifier-key/);
    const json = await writ(['verify-bundle', forged, '--json'], env);
    assert.equal(json.code, 3);
    assert.deepEqual([JSON.parse(json.stdout).ok, JSON.parse(json.stdout).signer], [false, 'unknown']);

    const pinned = await verifyJson([forged, '--verifier-key', real.verifierKey], env);
    assert.equal(pinned.code, 1, pinned.stdout + pinned.stderr);
    assert.ok(
      codes(pinned.verdict).some(([code, file]) => code === 'MANIFEST_UNKNOWN_KEY' && file === 'manifest.sig'),
      pinned.stdout,
    );

    const pyUnpinned = await python([forged]);
    assert.equal(pyUnpinned.code, 3, pyUnpinned.stdout + pyUnpinned.stderr);
    assert.match(pyUnpinned.stdout, /signer is unknown/);
    const pyPinned = await python([forged, '--verifier-key', real.verifierKey]);
    assert.equal(pyPinned.code, 1, pyPinned.stdout + pyPinned.stderr);

    // Whatever the key, a broken bundle is damaged, not merely "signer unknown".
    writeFileSync(
      join(forged, 'records.jsonl'),
      `${readFileSync(join(forged, 'records.jsonl'), 'utf8')}not a record\n`,
    );
    const broken = await verifyJson([forged], env);
    assert.equal(broken.code, 1, broken.stdout + broken.stderr);
    assert.ok(
      codes(broken.verdict).some(([code, file]) => code === 'RECORD_MALFORMED' && file === 'records.jsonl'),
      broken.stdout,
    );
    assert.equal((await python([forged])).code, 1);
  });
});
