import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ESLint } from 'eslint';
import { REPO_ROOT } from '../support/cli.js';

/**
 * The folder boundaries in eslint.config.js, checked against imports written into real files of
 * each folder (the text is linted in place of the file's own; nothing is written to disk).
 */
const eslint = new ESLint({ cwd: REPO_ROOT });

async function problems(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(REPO_ROOT, file) });
  return result!.messages.map((message) => `${message.ruleId}: ${message.message}`);
}

describe('folder boundaries', () => {
  test('when the demo imports a CLI command, lint refuses it', async () => {
    const found = await problems(
      'src/demo/narrator.ts',
      "import { EXIT } from '../cli/shared/exit.js';\nexport const code = EXIT.ok;\n",
    );
    assert.ok(
      found.some(
        (problem) => problem.startsWith('import/no-restricted-paths') && problem.includes('../cli/shared/exit.js'),
      ),
      found.join('\n'),
    );
  });

  test('when a connector imports activities, evidence or Temporal, lint refuses each', async () => {
    const found = await problems(
      'src/connectors/registry.ts',
      [
        "import { createLedgerActivities } from '../activities/ledger.js';",
        "import { fetchNodes } from '../evidence/store.js';",
        "import { Context } from '@temporalio/activity';",
        'export const used = [createLedgerActivities, fetchNodes, Context];',
        '',
      ].join('\n'),
    );
    assert.ok(
      found.some((problem) => problem.includes('../activities/ledger.js')),
      found.join('\n'),
    );
    assert.ok(
      found.some((problem) => problem.includes('../evidence/store.js')),
      found.join('\n'),
    );
    assert.ok(
      found.some(
        (problem) =>
          problem.startsWith('@typescript-eslint/no-restricted-imports') && problem.includes('@temporalio/activity'),
      ),
      found.join('\n'),
    );
  });

  test('when a library folder imports an entry point of src/, lint refuses it', async () => {
    const found = await problems(
      'src/serve/html.ts',
      "import { WritClient } from '../client.js';\nexport const client = WritClient;\n",
    );
    assert.ok(
      found.some((problem) => problem.startsWith('import/no-restricted-paths') && problem.includes('../client.js')),
      found.join('\n'),
    );
  });

  test('when the application layer runs an entry point, lint lets it', async () => {
    const found = await problems(
      'src/devstack/stack.ts',
      "import { WritClient } from '../client.js';\nexport const client = WritClient;\n",
    );
    assert.deepEqual(
      found.filter((problem) => problem.startsWith('import/no-restricted-paths')),
      [],
    );
  });

  test('when the verification package imports the database, files or an I/O folder, lint refuses each', async () => {
    const found = await problems(
      'src/verify/chain.ts',
      [
        "import pg from 'pg';",
        "import { readFile } from 'node:fs/promises';",
        "import { fetchNodes } from '../evidence/store.js';",
        "import { createHash } from 'node:crypto';",
        'export const used = [pg, readFile, fetchNodes, createHash];',
        '',
      ].join('\n'),
    );
    for (const module of ["'pg'", "'node:fs/promises'", '../evidence/store.js']) {
      assert.ok(
        found.some((problem) => problem.includes(module)),
        `${module} let through:\n${found.join('\n')}`,
      );
    }
    assert.equal(
      found.some((problem) => problem.includes('node:crypto')),
      false,
      'hashing is what verification is',
    );
  });

  test('when the ledger imports evidence, lint refuses it', async () => {
    const found = await problems(
      'src/ledger/reader.ts',
      "import { fetchNodes } from '../evidence/store.js';\nexport const used = fetchNodes;\n",
    );
    assert.ok(
      found.some(
        (problem) => problem.startsWith('import/no-restricted-paths') && problem.includes('../evidence/store.js'),
      ),
      found.join('\n'),
    );
  });

  test('when the ledger imports prom-client or src/metrics, lint refuses each', async () => {
    const found = await problems(
      'src/ledger/appender.ts',
      [
        "import { Counter } from 'prom-client';",
        "import { writMetrics } from '../metrics/index.js';",
        'export const used = [Counter, writMetrics];',
        '',
      ].join('\n'),
    );
    assert.ok(
      found.some(
        (problem) => problem.startsWith('@typescript-eslint/no-restricted-imports') && problem.includes('prom-client'),
      ),
      found.join('\n'),
    );
    assert.ok(
      found.some(
        (problem) => problem.startsWith('import/no-restricted-paths') && problem.includes('../metrics/index.js'),
      ),
      found.join('\n'),
    );
  });
});
