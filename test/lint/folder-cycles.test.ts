import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { measure } from '../../scripts/shape.js';
import { REPO_ROOT } from '../support/cli.js';

/**
 * import/no-cycle follows files, so folders can still import each other through files that do
 * not: the folders are the architecture, so no two of them may depend on each other.
 */
describe('the folders of src/', () => {
  test('when runtime imports are followed folder to folder, no folder reaches back to itself', () => {
    const { folderCycles } = measure([join(REPO_ROOT, 'src')]);
    assert.deepEqual(
      folderCycles,
      [],
      `folders that import each other: ${folderCycles.map((group) => group.join(' <-> ')).join('; ')}`,
    );
  });
});
