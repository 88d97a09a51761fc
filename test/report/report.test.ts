import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { ComplianceReport } from '../../src/report/build.js';
import { checkLink } from '../../src/serve/signed-links.js';
import { browserUnavailable, launchChromium } from '../support/browser.js';
import { runWrit } from '../support/cli.js';
import { tamper } from '../support/records.js';
import { adminUrl } from '../support/urls.js';
import type { Scenario } from './scenario.js';
import { HOSTILE_INTENT, buildScenario } from './scenario.js';

let scenario: Scenario;
const cleanups: Array<() => Promise<void>> = [];

function windowArgs(): string[] {
  return ['--from', scenario.from.toISOString(), '--to', new Date(Date.now() + 60_000).toISOString()];
}

async function jsonReport(env: Record<string, string> = scenario.env): Promise<ComplianceReport> {
  const run = await runWrit(['report', '--profile', scenario.profilePath, ...windowArgs(), '--json'], { env });
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as ComplianceReport;
}

function kindsOf(report: ComplianceReport, operationId: string | null): string[] {
  return [...new Set(report.exceptions.filter((e) => e.operationId === operationId).map((e) => e.kind))].sort();
}

describe('writ report on a real stack', () => {
  before(async () => {
    scenario = await buildScenario({ after: (fn) => cleanups.push(fn) });
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  test('the JSON lists every operation of the window and files each exception under the right operation', async () => {
    const report = await jsonReport();
    const { approved, intervention, emergencyLate, emergencyReviewed, ghost } = scenario.ops;
    const outcomes = Object.fromEntries(report.population.map((row) => [row.id, row.outcome]));
    assert.deepEqual(outcomes, {
      [approved]: 'succeeded',
      [intervention]: 'resolved_manually',
      [emergencyLate]: 'succeeded',
      [emergencyReviewed]: 'succeeded',
      [ghost]: 'succeeded',
    });
    const row = report.population.find((r) => r.id === approved)!;
    assert.equal(row.intent, HOSTILE_INTENT);
    assert.deepEqual(
      row.approvals.map((a) => a.by),
      ['bob'],
    );
    assert.deepEqual(row.targets, ['postgres:public.accounts/42']);
    assert.equal(row.whatHappened.command, `writ what-happened ${approved} --timeline`);

    assert.deepEqual(kindsOf(report, approved), [
      'evidence_access',
      'identity_not_verified',
      'manual_record',
      'self_approval',
    ]);
    assert.deepEqual(kindsOf(report, intervention), [
      'compensation_failed',
      'identity_not_verified',
      'manual_resolution',
      'rollback',
    ]);
    assert.deepEqual(kindsOf(report, emergencyLate), ['emergency_unreviewed', 'identity_not_verified']);
    assert.deepEqual(kindsOf(report, emergencyReviewed), ['identity_not_verified'], 'reviewed in time');
    assert.deepEqual(kindsOf(report, ghost), [
      'approval_after_execution',
      'approver_not_eligible',
      'identity_not_verified',
      'no_approval',
    ]);
    const byHand = report.exceptions.filter((e) => e.seq === scenario.manualChangeSeq).map((e) => e.kind);
    assert.deepEqual(byHand.sort(), ['manual_record', 'no_approval']);
    const access = report.exceptions.find((e) => e.seq === scenario.accessSeq)!;
    assert.equal(access.kind, 'evidence_access');
    assert.match(access.detail, /auditor-jo viewed the timeline/);
    const refused = report.exceptions.find((e) => e.kind === 'self_approval')!;
    assert.match(refused.detail, /alice tried to approve their own change; refused/);
    assert.match(report.exceptions.find((e) => e.kind === 'approver_not_eligible')!.detail, /^eve: not an approver/);
  });

  test('the completeness section names the checkpoint, and a record after it as not covered', async () => {
    const report = await jsonReport();
    assert.equal(report.completeness.ok, true);
    const [chain] = report.completeness.chains;
    assert.equal(chain!.chain, 'main');
    assert.equal(chain!.verified, true);
    assert.equal(chain!.checkpoint!.size, scenario.checkpointSize);
    assert.equal(chain!.checkpoint!.signatureChecked, true);
    assert.match(chain!.checkpoint!.note, new RegExp(`^acme\\.example/writ/main\\n${scenario.checkpointSize}\\n`));
    assert.deepEqual(chain!.uncovered, { records: 1, operations: [scenario.ops.approved] });

    const text = await runWrit(['report', '--profile', scenario.profilePath, ...windowArgs()], { env: scenario.env });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`Covered by the signed checkpoint of ${scenario.checkpointSize} records`));
    assert.match(
      text.stdout,
      new RegExp(`Not yet covered by a checkpoint: 1 record\\(s\\), operations ${scenario.ops.approved}`),
    );
  });

  test('the CSV holds the population, one row per operation', async () => {
    const out = join(scenario.dir, 'population.csv');
    const run = await runWrit(['report', '--profile', 'sox', ...windowArgs(), '--csv', '--out', out], {
      env: scenario.env,
    });
    assert.equal(run.code, 0, run.stderr);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\r\n');
    assert.match(lines[0]!, /^operation,chain,intent,requester,requesterVerified,targets,/);
    assert.equal(lines.length, 1 + 5);
    for (const id of Object.values(scenario.ops))
      assert.equal(lines.filter((l) => l.startsWith(`${id},`)).length, 1, id);
    assert.match(
      lines.find((l) => l.startsWith('ghost-change,'))!,
      /,mallory,no,postgres:public\.accounts\/42,/,
    );
  });

  test('with a public URL and link secret, each row links to its signed timeline, made for the person named', async () => {
    const secret = 'report-test-link-secret-0123456789';
    const env = { ...scenario.env, WRIT_PUBLIC_URL: 'https://writ.example.com', WRIT_LINK_SECRET: secret };
    const run = await runWrit(
      ['report', '--profile', 'iso27001', ...windowArgs(), '--json', '--links-for', 'auditor-jo', '--links-ttl', '2d'],
      { env },
    );
    assert.equal(run.code, 0, run.stderr);
    const row = (JSON.parse(run.stdout) as ComplianceReport).population.find((r) => r.id === scenario.ops.ghost)!;
    const url = new URL(row.whatHappened.url!);
    assert.equal(`${url.origin}${url.pathname}`, 'https://writ.example.com/evidence/timeline');
    const check = checkLink(secret, 'timeline', url.searchParams, Date.now());
    assert.ok(check.ok && check.grant.id === scenario.ops.ghost && check.grant.requester === 'auditor-jo');
    assert.equal(checkLink(secret, 'timeline', url.searchParams, Date.now() + 3 * 24 * 3600_000).ok, false);

    const unset = await runWrit(['report', '--profile', 'pci', ...windowArgs(), '--links-for', 'jo'], {
      env: scenario.env,
    });
    assert.equal(unset.code, 2);
    assert.match(unset.stderr, /--links-for needs WRIT_PUBLIC_URL .* and WRIT_LINK_SECRET/);
  });

  test('a login holding only writ_reader can make the report', async () => {
    const role = `${process.env.WRIT_TEST_RUN}_auditor_${randomBytes(3).toString('hex')}`;
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    await admin.query(`CREATE ROLE ${role} LOGIN IN ROLE writ_reader`);
    try {
      const url = new URL(scenario.env.DATABASE_URL!);
      url.username = role;
      const report = await jsonReport({ ...scenario.env, DATABASE_URL: url.toString() });
      assert.equal(report.population.length, 5);
      assert.equal(report.completeness.ok, true);
    } finally {
      await admin.query(`DROP ROLE ${role}`);
      await admin.end();
    }
  });

  test(
    'the HTML page reads in Chromium: summary, controls, chart, exceptions with links, and hostile text as text',
    {
      skip: browserUnavailable() ?? false,
    },
    async () => {
      const out = join(scenario.dir, 'report.html');
      const run = await runWrit(['report', '--profile', 'soc2', ...windowArgs(), '--html', '--out', out], {
        env: scenario.env,
      });
      assert.equal(run.code, 0, run.stderr);
      const browser = await launchChromium();
      try {
        const page = await browser.newPage();
        await page.goto(pathToFileURL(out).href);
        await page.screenshot({ path: join(scenario.dir, 'report.png'), fullPage: true });
        const body = await page.locator('body').innerText();
        assert.match(body, /SOC 2 change management/);
        assert.match(body, /CC8\.1/);
        assert.match(body, /Changes and exceptions over time/);
        assert.match(body, /Covered by the signed checkpoint/);
        assert.match(body, /self-approval/);
        assert.ok(body.includes(HOSTILE_INTENT), 'the intent is shown as the text it is');
        assert.equal(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned), undefined);
        assert.equal(await page.locator('script').count(), 0);
        assert.equal(await page.locator('img').count(), 0);
        assert.ok((await page.locator('svg rect.bar-changes').count()) > 0, 'the chart is drawn');
        assert.ok(
          (await page.locator('#exceptions code', { hasText: `writ what-happened ${scenario.ops.ghost}` }).count()) > 0,
          'each exception links to its what-happened',
        );
        assert.ok(existsSync(join(scenario.dir, 'report.png')));
      } finally {
        await browser.close();
      }
    },
  );

  test('an edited record breaks the chain: the report says so and exits 1', async () => {
    const { ledger } = scenario.harness;
    const planned = await ledger.pool.query<{ seq: string }>(
      `SELECT seq FROM writ.records WHERE operation_id = $1 AND event_type = 'operation.planned'`,
      [scenario.ops.ghost],
    );
    // A superuser rewrites the searchable copy the report reads, so the ghost change looks routine.
    await tamper(
      ledger.pool,
      `UPDATE writ.records SET record = jsonb_set(record, '{payload,envelope,intent}', '"routine"') WHERE seq = $1`,
      [planned.rows[0]!.seq],
    );
    const run = await runWrit(['report', '--profile', 'soc2', ...windowArgs(), '--json'], { env: scenario.env });
    assert.equal(run.code, 1, run.stdout + run.stderr);
    const report = JSON.parse(run.stdout) as ComplianceReport;
    assert.equal(report.completeness.ok, false);
    assert.match(report.completeness.chains[0]!.damage.join(' '), /COPY_MISMATCH at record/);
    assert.match(run.stderr, /the ledger is broken: the report cannot show that the population is complete/);
  });
});
