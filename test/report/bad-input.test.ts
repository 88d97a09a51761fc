import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runWrit } from '../support/cli.js';
import { freshLedger } from '../support/db.js';

const FROM = '2001-01-01T00:00:00Z';
const TO = '2001-04-01T00:00:00Z';

describe('writ report refuses bad input clearly and writes nothing', () => {
  test('--from after --to, a time that is not one, two formats at once: usage errors', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'writ-report-bad-')), 'report.json');
    const cases: Array<[string[], RegExp]> = [
      [['--from', TO, '--to', FROM], /--from \(2001-04-01T00:00:00\.000Z\) must be before --to/],
      [['--from', 'yesterday', '--to', TO], /--from is not an ISO 8601 time: "yesterday"/],
      [['--from', FROM, '--to', TO, '--json', '--html'], /choose one of --json, --csv and --html, not json and html/],
    ];
    for (const [args, message] of cases) {
      const run = await runWrit(['report', '--profile', 'soc2', ...args, '--out', out]);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, message);
      assert.equal(existsSync(out), false);
    }
  });

  test('an unknown profile name and a malformed profile file are named, with what is wrong', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'writ-report-profile-'));
    const unknown = await runWrit(['report', '--profile', 'hipaa', '--from', FROM, '--to', TO]);
    assert.equal(unknown.code, 2);
    assert.match(
      unknown.stderr,
      /unknown profile "hipaa": use one of soc2, sox, iso27001, pci, or the path of a profile file/,
    );

    const malformed = join(dir, 'mine.json');
    writeFileSync(
      malformed,
      JSON.stringify({
        id: 'mine',
        title: 'ours',
        framework: 'internal',
        settings: { emergencyReviewHours: -1 },
        controls: [
          {
            id: 'C1',
            title: 't',
            objective: 'o',
            columns: ['intent', 'colour'],
            exceptions: ['self_approval', 'bad_vibes'],
          },
        ],
      }),
    );
    const run = await runWrit(['report', '--profile', malformed, '--from', FROM, '--to', TO]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /profile .*mine\.json is malformed: /);
    assert.match(run.stderr, /settings\.emergencyReviewHours: /);
    assert.match(run.stderr, /controls\.0\.columns\.1: /);
    assert.match(run.stderr, /controls\.0\.exceptions\.1: /);

    writeFileSync(malformed, '{"id": "mine",');
    const notJson = await runWrit(['report', '--profile', malformed, '--from', FROM, '--to', TO]);
    assert.equal(notJson.code, 2);
    assert.match(notJson.stderr, /profile .*mine\.json is not JSON/);
  });

  test('a window with no records: a clear message, exit 1, no file', async (t) => {
    const ledger = await freshLedger(t);
    const env = { DATABASE_URL: ledger.url };
    const noted = await runWrit(['record', '--type', 'note', '--actor', 'ops', '--message', 'today'], { env });
    assert.equal(noted.code, 0, noted.stderr);
    const out = join(mkdtempSync(join(tmpdir(), 'writ-report-empty-')), 'report.html');
    const run = await runWrit(['report', '--profile', 'pci', '--from', FROM, '--to', TO, '--html', '--out', out], {
      env,
    });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /no records in the window 2001-01-01T00:00:00\.000Z to 2001-04-01T00:00:00\.000Z/);
    assert.equal(existsSync(out), false);
  });
});
