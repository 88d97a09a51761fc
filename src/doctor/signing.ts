import { evidenceConfigFromEnv } from '../evidence/config.js';
import { loadSigner, loadVerifierKey } from '../evidence/keys.js';
import { verifierKeyString } from '../verify/note.js';
import type { CheckResult } from './check.js';
import { fail, messageOf, ok, skip } from './check.js';

const NAME = 'signing-key';

/** WRIT_SIGNING_KEY loads as the Ed25519 key checkpoints are signed with, and is the one auditors were given. */
export async function signingKeyCheck(env: NodeJS.ProcessEnv): Promise<CheckResult> {
  const config = evidenceConfigFromEnv(env);
  if (!config.signingKeyPath) return skip(NAME, 'WRIT_SIGNING_KEY is not set: checkpoints are not signed');
  let signer;
  try {
    signer = await loadSigner(config.signingKeyPath, config.keyName);
  } catch (error) {
    return fail(
      NAME,
      messageOf(error),
      'make a key with `writ keygen --out <dir>` and set WRIT_SIGNING_KEY to its .key file (readable by this user)',
    );
  }
  if (!config.verifierKey) return ok(NAME, `${config.signingKeyPath} is an Ed25519 key (${signer.verifierKey})`);
  let pinned: string;
  try {
    const parsed = await loadVerifierKey(config.verifierKey);
    pinned = verifierKeyString(parsed.name, parsed.publicKey);
  } catch (error) {
    return fail(
      NAME,
      `WRIT_VERIFIER_KEY: ${messageOf(error)}`,
      'set WRIT_VERIFIER_KEY to the .pub file `writ keygen` wrote next to the key, or to its contents',
    );
  }
  // Checkpoints signed with one key and checked against another fail verification for everyone.
  if (pinned !== signer.verifierKey)
    return fail(
      NAME,
      `WRIT_SIGNING_KEY ${config.signingKeyPath} signs as ${signer.verifierKey}, but WRIT_VERIFIER_KEY is ${pinned}`,
      `set WRIT_VERIFIER_KEY=${signer.verifierKey} (and give it to auditors), or set WRIT_SIGNING_KEY (and WRIT_KEY_NAME) to the key WRIT_VERIFIER_KEY was made from`,
    );
  return ok(NAME, `${config.signingKeyPath} matches WRIT_VERIFIER_KEY ${pinned}`);
}
