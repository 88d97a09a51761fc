import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { FILES_IN_FLIGHT, unusableOut, writeBundleInPlace } from '../../src/evidence/bundle/write.js';

async function scratch(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'writ-bundle-write-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** More files than are written at once, so a failure lands after others were already written. */
function bundleFiles(count = FILES_IN_FLIGHT * 3): Map<string, Uint8Array> {
  return new Map(Array.from({ length: count }, (_, i) => [`statement-${i}.json`, Buffer.from(`{"i":${i}}`)]));
}

describe('a bundle written in place', () => {
  test('lands whole in a new directory, or in an empty one, and nothing else is left beside it', async (t) => {
    const parent = await scratch(t);
    const files = bundleFiles();
    await writeBundleInPlace(join(parent, 'nested', 'new'), files);
    assert.deepEqual((await readdir(join(parent, 'nested', 'new'))).sort(), [...files.keys()].sort());
    assert.equal(await readFile(join(parent, 'nested', 'new', 'statement-7.json'), 'utf8'), '{"i":7}');
    assert.deepEqual(await readdir(join(parent, 'nested')), ['new']);

    await mkdir(join(parent, 'empty'));
    assert.equal(await unusableOut(join(parent, 'empty')), null);
    await writeBundleInPlace(join(parent, 'empty'), files);
    assert.equal((await readdir(join(parent, 'empty'))).length, files.size);
  });

  test('when a file cannot be written midway, the target is left as it was and the partial files are removed', async (t) => {
    const parent = await scratch(t);
    // A name under a directory that does not exist fails its write after the files before it.
    const files = bundleFiles();
    files.set('no-such-directory/late.json', Buffer.from('{}'));
    files.set('statement-after.json', Buffer.from('{}'));
    await assert.rejects(writeBundleInPlace(join(parent, 'out'), files), /ENOENT/);
    assert.deepEqual(await readdir(parent), [], 'no bundle and no partial directory');

    await mkdir(join(parent, 'kept-empty'));
    await assert.rejects(writeBundleInPlace(join(parent, 'kept-empty'), files), /ENOENT/);
    assert.deepEqual(await readdir(parent), ['kept-empty']);
    assert.deepEqual(await readdir(join(parent, 'kept-empty')), []);
  });

  test('a directory that is not empty is refused up front, and is not touched if it fills after the check', async (t) => {
    const parent = await scratch(t);
    const out = join(parent, 'taken');
    await mkdir(out);
    assert.equal(await unusableOut(out), null);
    await writeFile(join(out, 'someone-elses.txt'), 'keep me');
    assert.match((await unusableOut(out)) ?? '', /taken is not empty: a bundle is written to a new or empty directory/);
    await assert.rejects(writeBundleInPlace(out, bundleFiles()), /ENOTEMPTY|EEXIST/);
    assert.deepEqual(await readdir(out), ['someone-elses.txt']);
    assert.equal(await readFile(join(out, 'someone-elses.txt'), 'utf8'), 'keep me');
    assert.deepEqual(await readdir(parent), ['taken']);

    await writeFile(join(parent, 'a-file'), 'x');
    assert.match((await unusableOut(join(parent, 'a-file'))) ?? '', /cannot use .*a-file: ENOTDIR/);
  });
});
