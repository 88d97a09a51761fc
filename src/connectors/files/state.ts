import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { z } from 'zod';
import type { Json } from '../../model/json.js';
import type { Snapshot } from '../types.js';
import { ConnectorInputError } from '../types.js';
import type { Place } from './paths.js';

export const ABSENT = 'absent';

/** A file as snapshots, executions and rollbacks carry it. */
export interface FileState {
  [key: string]: Json;
  /** The bytes, base64. */
  content: string;
  size: number;
  /** Permission bits only (including setuid, setgid, sticky). */
  mode: number;
}

/** What is on disk, with the bytes (undefined: absent). */
export interface OnDisk {
  bytes: Buffer | undefined;
  mode: number;
  version: string;
}

export const versionOf = (bytes: Buffer | undefined) =>
  bytes === undefined ? ABSENT : `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

export const stateOf = (bytes: Buffer, mode: number): FileState => ({
  content: bytes.toString('base64'),
  size: bytes.length,
  mode,
});

// Windows has neither flag; there symbolic links need privileges to create in the first place.
// O_NONBLOCK: opening a FIFO someone put at the target would otherwise wait for a writer forever.
const FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/**
 * Reads the file without following a symbolic link in its last component: a link would make
 * reads and writes disagree (the rename replaces the link, reading follows it), and may lead out.
 */
export async function readOnDisk(place: Place): Promise<OnDisk> {
  if (!place.directoryExists) return { bytes: undefined, mode: 0, version: ABSENT };
  let handle: FileHandle;
  try {
    handle = await open(place.path, FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { bytes: undefined, mode: 0, version: ABSENT };
    if (code === 'ELOOP')
      throw new ConnectorInputError(
        `target ${JSON.stringify(place.target)} is refused: it is a symbolic link; name the file it points to (inside the root)`,
      );
    throw error;
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new ConnectorInputError(`target ${JSON.stringify(place.target)} is not a regular file`);
    const bytes = await handle.readFile();
    return { bytes, mode: stat.mode & 0o7777, version: versionOf(bytes) };
  } finally {
    await handle.close();
  }
}

export const snapshotOf = (disk: OnDisk): Snapshot => ({
  version: disk.version,
  state: disk.bytes === undefined ? null : stateOf(disk.bytes, disk.mode),
});

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
export const isBase64 = (text: string) => BASE64.test(text);

const fileState = z.object({
  content: z.string().refine(isBase64),
  size: z.number().int().nonnegative(),
  mode: z.number().int().min(0).max(0o7777),
});

/** A before state handed back by the workflow, checked before anything is restored from it. */
export function parseState(state: Json, what: string): { bytes: Buffer; mode: number } | null {
  if (state === null) return null;
  const parsed = fileState.safeParse(state);
  if (!parsed.success)
    throw new ConnectorInputError(`${what} is not a file state this connector recorded ({ content, size, mode })`);
  return { bytes: Buffer.from(parsed.data.content, 'base64'), mode: parsed.data.mode };
}
