import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { LocalTsa } from './tsa.js';

const run = promisify(execFile);

/**
 * Another certificate for the local TSA's own key, from the same CA with the same serial number,
 * so a token the TSA signs names it as signer too and its signature verifies with it: what an
 * auditor would pin by mistake if handed a certificate meant for something else (no
 * timeStamping extended key usage) or one whose validity does not cover the token's time.
 * `days` may be negative: the certificate then ended before it began, so any time lies outside it.
 */
export async function reissuedTsaCert(tsa: LocalTsa, name: string, extensions: string, days: number): Promise<string> {
  const dir = dirname(tsa.certFile);
  const serial = (await run('openssl', ['x509', '-in', tsa.certFile, '-noout', '-serial'])).stdout.trim();
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, `${extensions}\n`);
  const out = join(dir, `${name}.pem`);
  await run(
    'openssl',
    [
      'x509',
      '-req',
      '-in',
      'tsa.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-set_serial',
      `0x${serial.split('=')[1]}`,
    ].concat(['-days', String(days), '-extfile', ext, '-out', out]),
    { cwd: dir },
  );
  return out;
}
