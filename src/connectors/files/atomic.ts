import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { link, lstat, open, rename, rm, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

const code = (error: unknown) => (error as NodeJS.ErrnoException).code ?? '';

/**
 * A rename is only durable once the directory entry is on disk. Some platforms cannot open or
 * sync a directory; there the rename is as durable as the file system makes it anyway.
 */
export async function syncDirectory(directory: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(directory, 'r');
    await handle.sync();
  } catch (error) {
    if (!['EISDIR', 'EINVAL', 'EPERM', 'EACCES', 'ENOTSUP', 'EBADF'].includes(code(error))) throw error;
  } finally {
    await handle?.close();
  }
}

/** Hidden, beside the target (so the rename stays on one file system), and never reused. */
export const tempNameFor = (path: string) =>
  join(dirname(path), `.${basename(path)}.writ-${randomBytes(6).toString('hex')}.tmp`);

/** Hard links are missing on some file systems (FAT, some network shares). */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'ENOSYS', 'EOPNOTSUPP', 'EXDEV']);

/**
 * Writes `bytes` to `path` so that readers, and the file after a crash, hold either the old
 * content or the new, never a part: the bytes go to a temp file that is synced and then renamed
 * over the target. With `exclusive`, the temp file is hard-linked instead, which fails if the
 * target appeared meanwhile rather than overwriting a file someone else just created.
 */
export async function writeFileAtomically(
  path: string,
  bytes: Buffer,
  mode: number,
  options: { exclusive: boolean },
): Promise<void> {
  const temp = tempNameFor(path);
  try {
    const handle = await open(temp, 'wx', mode);
    try {
      await handle.writeFile(bytes);
      // open() applies the umask; the mode asked for is the mode promised.
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.exclusive) await linkOrRename(temp, path);
    else await rename(temp, path);
  } finally {
    await rm(temp, { force: true });
  }
  await syncDirectory(dirname(path));
}

async function linkOrRename(temp: string, path: string): Promise<void> {
  try {
    await link(temp, path);
  } catch (error) {
    if (!NO_LINKS.has(code(error))) throw error;
    // Without links the window between this check and the rename is the best we can do.
    const existing = await lstat(path).then(
      () => true,
      () => false,
    );
    if (existing) throw Object.assign(new Error(`EEXIST: file already exists, ${path}`), { code: 'EEXIST' });
    await rename(temp, path);
  }
}

/** Removes a file durably; a file already gone counts as removed. */
export async function removeFile(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if (code(error) !== 'ENOENT') throw error;
  }
  await syncDirectory(dirname(path));
}
