import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { runConformance } from '../../src/connectors/conformance/index.js';
import { filesConnector } from '../../src/connectors/files/index.js';
import type { ConnectorAction, Snapshot } from '../../src/connectors/types.js';
import { ConnectorInputError } from '../../src/connectors/types.js';
import type { Json } from '../../src/model/json.js';

const root = mkdtempSync(join(tmpdir(), 'writ-files-'));
after(() => rmSync(root, { recursive: true, force: true }));

const connector = () => filesConnector({ root });
const fresh = () => `note-${randomUUID().slice(0, 8)}.txt`;

/** The file as the connector should describe it, read without the connector. */
function readActual(name: string): () => Promise<Json> {
  return async () => {
    const path = join(root, name);
    if (!existsSync(path)) return null;
    const bytes = readFileSync(path);
    return { content: bytes.toString('base64'), size: bytes.length, mode: statSync(path).mode & 0o7777 };
  };
}

/**
 * Another process watches the directory and, once the write lands, stores something else: it
 * rewrites the file, or puts a deleted one back. Settles once it has.
 */
function watcher(name: string) {
  return async () => {
    const path = join(root, name);
    const original = existsSync(path) ? readFileSync(path) : undefined;
    let acted: () => void;
    const done = new Promise<void>((resolve) => (acted = resolve));
    let rewritten = false;
    const act = () => {
      if (rewritten) return;
      const now = existsSync(path) ? readFileSync(path) : undefined;
      if (now !== undefined && original !== undefined && now.equals(original)) return;
      if (now === undefined && original === undefined) return;
      rewritten = true;
      writeFileSync(path, now === undefined ? original! : Buffer.from('rewritten by a watcher\n'));
      acted();
    };
    const watching = watch(dirname(path), (_event, file) => file === basename(name) && act());
    return async () => {
      const timeout = setTimeout(() => acted(), 5000);
      await done;
      clearTimeout(timeout);
      watching.close();
      assert.ok(rewritten, 'the watcher saw the write and rewrote it');
    };
  };
}

function existing(name: string, content: string | Buffer, mode = 0o640): string {
  writeFileSync(join(root, name), content);
  chmodSync(join(root, name), mode);
  return name;
}

runConformance({
  name: 'files',
  connector,
  action: 'write',
  badParams: [
    { params: {}, field: 'content' },
    { params: { content: 42 }, field: 'content' },
    { params: { content: 'x', encoding: 'latin1' }, field: 'encoding' },
    { params: { content: 'not base64!', encoding: 'base64' }, field: 'content' },
    { params: { content: 'x', mode: 0o777 }, field: 'mode' },
  ],
  fixture: async () => {
    const name = fresh();
    return {
      target: name,
      params: { content: 'hello, world\n' },
      readActual: readActual(name),
      drift: async () => writeFileSync(join(root, name), 'drifted'),
      tamper: watcher(name),
    };
  },
});

runConformance({
  name: 'files',
  connector,
  action: 'replace',
  badParams: [
    { params: { content: 'x', encoding: 'hex' }, field: 'encoding' },
    { params: { text: 'x' }, field: 'text' },
  ],
  fixture: async () => {
    mkdirSync(join(root, 'docs'), { recursive: true });
    const name = existing(`docs/${fresh()}`, 'old content\n');
    const binary = Buffer.from([0, 1, 2, 253, 254, 255, 10]);
    return {
      target: name,
      params: { content: binary.toString('base64'), encoding: 'base64' },
      readActual: readActual(name),
      drift: async () => writeFileSync(join(root, name), 'drifted'),
      tamper: watcher(name),
    };
  },
});

runConformance({
  name: 'files',
  connector,
  action: 'delete',
  badParams: [{ params: { force: true }, field: 'force' }],
  fixture: async () => {
    const name = existing(fresh(), 'to be deleted\n');
    return {
      target: name,
      params: {},
      readActual: readActual(name),
      drift: async () => writeFileSync(join(root, name), 'resurrected'),
      tamper: watcher(name),
    };
  },
});

type ContentParams = { content: string; encoding?: 'utf8' | 'base64' };
const actions = () => {
  const files = connector();
  return {
    write: files.actions.write as ConnectorAction<ContentParams>,
    replace: files.actions.replace as ConnectorAction<ContentParams>,
    remove: files.actions.delete as ConnectorAction<Record<string, never>>,
  };
};

const refusedNaming = (target: string) => (error: Error) =>
  error instanceof ConnectorInputError && error.message.includes(JSON.stringify(target));

describe('files connector', () => {
  test('paths that escape the root are refused, naming the target', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'writ-outside-'));
    after(() => rmSync(outside, { recursive: true, force: true }));
    writeFileSync(join(outside, 'secret.txt'), 'outside');
    const id = randomUUID().slice(0, 8);
    symlinkSync(outside, join(root, `out-${id}`));
    symlinkSync(join(outside, 'secret.txt'), join(root, `secret-${id}`));
    const { write, replace } = actions();

    for (const target of [
      '../x',
      '/etc/passwd',
      'a/../../x',
      `out-${id}/x.txt`,
      `secret-${id}`,
      '.writ/executions/x.json',
    ]) {
      const call = { target, params: { content: 'pwned' } };
      await assert.rejects(write.snapshot(call), refusedNaming(target), `snapshot of ${target}`);
      await assert.rejects(write.validate(call), refusedNaming(target), `validate of ${target}`);
      const before: Snapshot = { version: 'absent', state: null };
      await assert.rejects(
        write.execute(call, { idempotencyKey: randomUUID(), before }),
        refusedNaming(target),
        `write of ${target}`,
      );
      await assert.rejects(
        replace.execute(call, { idempotencyKey: randomUUID(), before }),
        refusedNaming(target),
        `replace of ${target}`,
      );
    }
    assert.throws(() => write.identity({ target: '../x', params: { content: '' } }), ConnectorInputError);
    assert.deepEqual(readdirSync(outside), ['secret.txt'], 'nothing was created outside the root');
    assert.equal(readFileSync(join(outside, 'secret.txt'), 'utf8'), 'outside', 'nothing outside the root was changed');
  });

  test(
    'an interrupted write leaves the old content and no temp file, and a retry with the key finishes it',
    { skip: process.platform === 'win32' && 'needs ulimit' },
    async () => {
      const name = existing(fresh(), 'old content\n', 0o600);
      const big = 'x'.repeat(1 << 20);
      // The child may only write small files (ulimit -f), so the replace fails halfway through
      // writing its temp file: a real partial write, not a simulated one.
      const script = `
      const [, moduleUrl, root, target, size] = process.argv;
      const content = 'x'.repeat(Number(size));
      const { filesConnector } = await import(moduleUrl);
      const replace = filesConnector({ root }).actions.replace;
      const call = { target, params: { content } };
      const before = await replace.snapshot(call);
      try { await replace.execute(call, { idempotencyKey: 'interrupted', before }); console.log('written'); }
      catch (error) { console.log(error.code ?? error.name); }`;
      const moduleUrl = new URL('../../src/connectors/files/index.js', import.meta.url).href;
      const child = spawn(
        '/bin/sh',
        [
          '-c',
          'ulimit -f 64 && exec "$0" "$@"',
          process.execPath,
          '--input-type=module',
          '-e',
          script,
          moduleUrl,
          root,
          name,
          String(big.length),
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      await new Promise((resolve) => child.on('close', resolve));

      assert.equal(output.trim(), 'EFBIG', 'the write was cut short by the file size limit');
      assert.equal(readFileSync(join(root, name), 'utf8'), 'old content\n', 'the target holds its old content');
      assert.deepEqual(
        readdirSync(root).filter((entry) => entry.includes(name) && entry !== name),
        [],
        'no temp file remains beside it',
      );

      const { replace } = actions();
      const call = { target: name, params: { content: big } };
      const execution = await replace.execute(call, {
        idempotencyKey: 'interrupted',
        before: await replace.snapshot(call),
      });
      assert.equal(readFileSync(join(root, name), 'utf8'), big, 'the retry wrote the new content');
      assert.equal((execution.after as { mode: number }).mode, 0o600, 'with the mode the file had');
    },
  );

  test('readers see the old or the new content, never a part of it', async () => {
    const size = 8 << 20;
    const name = existing(fresh(), Buffer.alloc(size, 'a'));
    const { replace } = actions();
    const call = { target: name, params: { content: 'b'.repeat(size) } };
    let done = false;
    const writing = replace
      .execute(call, { idempotencyKey: randomUUID(), before: await replace.snapshot(call) })
      .finally(() => (done = true));
    const seen = new Set<string>();
    while (!done) {
      const bytes = await readFile(join(root, name));
      const whole = bytes.length === size && (bytes.indexOf('a') === -1 || bytes.indexOf('b') === -1);
      assert.ok(whole, `a reader saw ${bytes.length} bytes mixing old and new content`);
      seen.add(String.fromCharCode(bytes[0]!));
    }
    await writing;
    assert.ok(seen.size >= 1, 'the file was read while it was being replaced');
    assert.equal((await readFile(join(root, name))).indexOf('a'), -1, 'the new content is in place');
  });

  test('a rollback restores the mode, after a replace and after a delete', async () => {
    const { replace, remove } = actions();
    const replaced = existing(fresh(), 'private\n', 0o600);
    const call = { target: replaced, params: { content: 'changed\n' } };
    const before = await replace.snapshot(call);
    const key = randomUUID();
    const execution = await replace.execute(call, { idempotencyKey: key, before });
    assert.equal(statSync(join(root, replaced)).mode & 0o7777, 0o600, 'a replace keeps the mode');
    chmodSync(join(root, replaced), 0o666);
    await replace.rollback(call, { idempotencyKey: key, before, execution });
    assert.equal(statSync(join(root, replaced)).mode & 0o7777, 0o600);
    assert.equal(readFileSync(join(root, replaced), 'utf8'), 'private\n');

    const deleted = existing(fresh(), 'group readable\n', 0o640);
    const deleteCall = { target: deleted, params: {} };
    const deleteBefore = await remove.snapshot(deleteCall);
    const deleteKey = randomUUID();
    const deletion = await remove.execute(deleteCall, { idempotencyKey: deleteKey, before: deleteBefore });
    assert.equal(existsSync(join(root, deleted)), false);
    await remove.rollback(deleteCall, { idempotencyKey: deleteKey, before: deleteBefore, execution: deletion });
    assert.equal(statSync(join(root, deleted)).mode & 0o7777, 0o640);
    assert.equal(readFileSync(join(root, deleted), 'utf8'), 'group readable\n');
  });

  test('write creates a file with mode 0644 and refuses one that exists; replace and delete refuse a missing one', async () => {
    const { write, replace, remove } = actions();
    const name = fresh();
    const call = { target: name, params: { content: 'new\n' } };
    await write.execute(call, { idempotencyKey: randomUUID(), before: await write.snapshot(call) });
    assert.equal(statSync(join(root, name)).mode & 0o7777, 0o644);

    assert.match((await write.validate(call)).join(), /already exists/);
    await assert.rejects(
      write.execute(call, { idempotencyKey: randomUUID(), before: await write.snapshot(call) }),
      /already exists/,
    );
    const missing = { target: fresh(), params: { content: 'x' } };
    const absent = await replace.snapshot(missing);
    assert.match((await replace.validate(missing)).join(), /does not exist/);
    await assert.rejects(replace.execute(missing, { idempotencyKey: randomUUID(), before: absent }), /does not exist/);
    await assert.rejects(
      remove.execute({ target: missing.target, params: {} }, { idempotencyKey: randomUUID(), before: absent }),
      /does not exist/,
    );
    assert.match(
      (await write.validate({ target: `no-such-dir/${fresh()}`, params: { content: 'x' } })).join(),
      /directory .* does not exist/,
    );
  });

  test('a repeated key returns the first result without writing again, from a small journal under the root', async () => {
    const { write } = actions();
    const name = fresh();
    const call = { target: name, params: { content: 'first\n' } };
    const before = await write.snapshot(call);
    const key = randomUUID();
    const first = await write.execute(call, { idempotencyKey: key, before });
    writeFileSync(join(root, name), 'changed by someone else\n');
    const second = await write.execute(call, { idempotencyKey: key, before });
    assert.deepEqual(second.after, first.after);
    assert.equal(second.detail?.repeated, true);
    assert.equal(readFileSync(join(root, name), 'utf8'), 'changed by someone else\n', 'the file was not written again');

    const entry = readFileSync(
      join(root, '.writ', 'executions', `${createHash('sha256').update(key).digest('hex')}.json`),
      'utf8',
    );
    assert.match(entry, /"state":"done"/);
    assert.doesNotMatch(entry, /first|Zmlyc3Q/, 'the journal holds versions, not content');
  });

  test('execute refuses a file that changed since it was read', async () => {
    const { replace } = actions();
    const name = existing(fresh(), 'as read\n');
    const call = { target: name, params: { content: 'approved change\n' } };
    const before = await replace.snapshot(call);
    writeFileSync(join(root, name), 'changed meanwhile\n');
    await assert.rejects(
      replace.execute(call, { idempotencyKey: randomUUID(), before }),
      (error: Error) => error instanceof ConnectorInputError && /changed since it was read/.test(error.message),
    );
    assert.equal(readFileSync(join(root, name), 'utf8'), 'changed meanwhile\n');
  });

  test('a rollback refuses a before state that is not the one the execution replaced', async () => {
    const { replace } = actions();
    const name = existing(fresh(), 'original\n');
    const call = { target: name, params: { content: 'new\n' } };
    const key = randomUUID();
    const execution = await replace.execute(call, { idempotencyKey: key, before: await replace.snapshot(call) });
    // What a retried activity would pass: the file read again after its own first attempt.
    const reread = await replace.snapshot(call);
    await assert.rejects(
      replace.rollback(call, { idempotencyKey: key, before: reread, execution }),
      /is not the one execution .* replaced/,
    );
    assert.equal(readFileSync(join(root, name), 'utf8'), 'new\n');
  });
});
