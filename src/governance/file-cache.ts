import { stat, readFile } from 'node:fs/promises';

/**
 * A file read again whenever it changes, so an edit takes effect without a restart, and parsed
 * only then: each use costs one stat. The stat key has nanosecond times, size and inode, so an
 * edit (or a file replaced by rename) is seen at the next use.
 */
export function cachedFile<T>(path: string, what: string, parse: (text: string) => T): () => Promise<T> {
  let cached: { key: string; value: T } | undefined;
  return async () => {
    let key: string;
    try {
      const s = await stat(path, { bigint: true });
      key = `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
    } catch (error) {
      throw new Error(`cannot read the ${what} ${path}: ${(error as Error).message}`);
    }
    if (cached?.key === key) return cached.value;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new Error(`cannot read the ${what} ${path}: ${(error as Error).message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new Error(`the ${what} ${path} is not JSON: ${(error as Error).message}`);
    }
    let value: T;
    try {
      value = parse(json as never);
    } catch (error) {
      throw new Error(`${path}: ${(error as Error).message}`);
    }
    cached = { key, value };
    return value;
  };
}
