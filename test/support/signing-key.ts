import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runWrit } from './cli.js';

export const KEY_NAME = 'acme-writ';
export const LOG_ORIGIN = 'acme.example/writ';

/** A key made the way a user makes one (`writ keygen`), and the environment that signs with it. */
export async function keygen(
  dir: string,
): Promise<{ verifierKey: string; env: { WRIT_SIGNING_KEY: string; WRIT_KEY_NAME: string; WRIT_LOG_ORIGIN: string } }> {
  const made = await runWrit(['keygen', '--out', join(dir, 'keys'), '--name', KEY_NAME]);
  assert.equal(made.code, 0, made.stderr);
  return {
    verifierKey: readFileSync(join(dir, 'keys', `${KEY_NAME}.pub`), 'utf8').trim(),
    env: {
      WRIT_SIGNING_KEY: join(dir, 'keys', `${KEY_NAME}.key`),
      WRIT_KEY_NAME: KEY_NAME,
      WRIT_LOG_ORIGIN: LOG_ORIGIN,
    },
  };
}
