/**
 * What the connector remembers per idempotency key, so a retried execute or rollback has one
 * effect. It lives under the root itself: on the same file system as the files (the atomic rename
 * needs that for the temp file anyway, and a change and its record cannot end up on two disks
 * that fail separately), and in the same backups, so a restored root remembers what was done to
 * it. Entries hold versions, not content: they stay small whatever the file size.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomically } from './atomic.js';
import { JOURNAL_DIR } from './paths.js';

const entry = z.object({
  v: z.literal(1),
  /** pending: recorded before the change, which may or may not have happened; done: after it. */
  state: z.enum(['pending', 'done']),
  target: z.string(),
  action: z.string(),
  /** The version the file had before the first attempt: what a rollback must restore. */
  beforeVersion: z.string(),
  afterVersion: z.string(),
  afterMode: z.number().nullable(),
  at: z.string(),
});

export type JournalEntry = z.infer<typeof entry>;

const JOURNAL_MODE = 0o600;

export function journal(root: string) {
  const directory = join(root, JOURNAL_DIR, 'executions');
  const pathOf = (key: string) => join(directory, `${createHash('sha256').update(key).digest('hex')}.json`);
  return {
    async read(key: string): Promise<JournalEntry | undefined> {
      let text: string;
      try {
        text = await readFile(pathOf(key), 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
      return entry.parse(JSON.parse(text));
    },
    async write(key: string, value: Omit<JournalEntry, 'v' | 'at'>): Promise<void> {
      await mkdir(directory, { recursive: true, mode: 0o700 });
      const record: JournalEntry = { v: 1, ...value, at: new Date().toISOString() };
      await writeFileAtomically(pathOf(key), Buffer.from(JSON.stringify(record)), JOURNAL_MODE, { exclusive: false });
    },
  };
}

export type Journal = ReturnType<typeof journal>;
