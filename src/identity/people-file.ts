import { readFile } from 'node:fs/promises';
import { parseDirectory } from '../approvals/directory.js';
import type { People } from './people.js';
import { peopleOf } from './people.js';

/** The directory file read for each login and decision: an edit takes effect without a restart. */
export function peopleFromFile(path: string): () => Promise<People> {
  return async () => peopleOf(parseDirectory(JSON.parse(await readFile(path, 'utf8'))));
}
