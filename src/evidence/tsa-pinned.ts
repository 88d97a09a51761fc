import { readFile } from 'node:fs/promises';
import type * as pkijs from 'pkijs';
import { parseTsaCertificate } from '../verify/timestamp-token.js';

/** The pinned TSA certificate from PEM text or a file holding it; none given: null. */
export async function loadTsaCertificate(pemOrFile: string | undefined): Promise<pkijs.Certificate | null> {
  if (!pemOrFile) return null;
  const pem = pemOrFile.includes('-----BEGIN') ? pemOrFile : await readFile(pemOrFile, 'utf8');
  try {
    return parseTsaCertificate(pem);
  } catch (error) {
    throw new Error(`${pemOrFile.includes('-----BEGIN') ? 'WRIT_TSA_CERT' : pemOrFile}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
