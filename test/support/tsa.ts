import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What the local TSA does with the next queries: answer properly, or misbehave. */
export type TsaMode = 'ok' | 'garbage' | 'error500';

export interface LocalTsa {
  url: string;
  /** The TSA's own certificate (PEM), the one an operator pins. */
  certPem: string;
  certFile: string;
  mode: TsaMode;
  close(): Promise<void>;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  await run('openssl', args, { cwd });
}

/**
 * A CA and a TSA certificate it issued (extendedKeyUsage critical timeStamping, as RFC 3161
 * requires), made with openssl into a temp dir, plus the `openssl ts` configuration.
 */
async function makeAuthority(name: string): Promise<{ dir: string; config: string; certFile: string }> {
  const dir = mkdtempSync(join(tmpdir(), `writ-tsa-${name}-`));
  await openssl(
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2'].concat(
      ['-subj', `/CN=${name} test CA`, '-addext', 'basicConstraints=critical,CA:TRUE'],
      ['-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    ),
    dir,
  );
  await openssl(
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'tsa.key', '-out', 'tsa.csr', '-subj', `/CN=${name} TSA`],
    dir,
  );
  writeFileSync(join(dir, 'tsa.ext'), 'extendedKeyUsage=critical,timeStamping\nkeyUsage=critical,digitalSignature\n');
  await openssl(
    ['x509', '-req', '-in', 'tsa.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2'].concat([
      '-out',
      'tsa.pem',
      '-extfile',
      'tsa.ext',
    ]),
    dir,
  );
  writeFileSync(join(dir, 'serial'), '01\n');
  const config = join(dir, 'tsa.cnf');
  writeFileSync(
    config,
    [
      '[ tsa ]',
      'default_tsa = writ_test_tsa',
      '[ writ_test_tsa ]',
      `dir = ${dir}`,
      'serial = $dir/serial',
      'crypto_device = builtin',
      'signer_cert = $dir/tsa.pem',
      'signer_key = $dir/tsa.key',
      'signer_digest = sha256',
      'default_policy = 1.2.3.4.1',
      'digests = sha256',
      'accuracy = secs:1',
      // Milliseconds, so that stamps a few moments apart are ordered.
      'clock_precision_digits = 3',
      'ordering = yes',
      'tsa_name = no',
      'ess_cert_id_alg = sha256',
      '',
    ].join('\n'),
  );
  return { dir, config, certFile: join(dir, 'tsa.pem') };
}

/** A real RFC 3161 TSA over HTTP: each query is answered by `openssl ts -reply`. */
export async function startLocalTsa(name = 'acme'): Promise<LocalTsa> {
  const authority = await makeAuthority(name);
  let counter = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      void answer(Buffer.concat(chunks)).then(
        (reply) => {
          response.writeHead(200, { 'content-type': 'application/timestamp-reply' });
          response.end(reply);
        },
        (error: Error) => {
          response.writeHead(500, { 'content-type': 'text/plain' });
          response.end(error.message);
        },
      );
    });
  });
  const tsa: LocalTsa = {
    url: '',
    certPem: readFileSync(authority.certFile, 'utf8'),
    certFile: authority.certFile,
    mode: 'ok',
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(authority.dir, { recursive: true, force: true });
    },
  };
  async function answer(query: Buffer): Promise<Buffer> {
    if (tsa.mode === 'garbage') return Buffer.from('<html>this is not a time-stamp</html>');
    if (tsa.mode === 'error500') throw new Error('internal error');
    const base = join(authority.dir, `q${++counter}`);
    await writeFile(`${base}.tsq`, query);
    await openssl(
      ['ts', '-reply', '-config', authority.config, '-queryfile', `${base}.tsq`, '-out', `${base}.tsr`],
      authority.dir,
    );
    return readFile(`${base}.tsr`);
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  tsa.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tsa`;
  return tsa;
}
