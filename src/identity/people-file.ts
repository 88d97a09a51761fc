import { directorySource } from '../governance/directory.js';
import type { People } from './people.js';
import { peopleOf } from './people.js';

/** The directory file as people, read again only when it changes: an edit takes effect without a restart. */
export function peopleFromFile(path: string): () => Promise<People> {
  const directory = directorySource(path);
  return async () => peopleOf((await directory()).content);
}
