import { createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { RequestIdentity } from '../../identity/request-proof.js';
import { CliExit, EXIT } from '../shared/exit.js';
import { clientCredentialsToken, issuerUrl } from './client-credentials.js';

/** How `writ submit` proves who sends the request (its flags and environment). */
export interface SubmitIdentityOptions {
  key?: string;
  token?: string;
  tokenFrom?: string;
  tokenResource?: string;
  tokenScope?: string;
}

/**
 * The identity the flags name, or WRIT_TOKEN's, or none (policy then decides whether the request
 * may go on unproved). Two at once is a usage error rather than a silent choice.
 */
export async function submitIdentity(
  options: SubmitIdentityOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RequestIdentity | undefined> {
  const given = (['key', 'token', 'tokenFrom'] as const).filter((name) => options[name] !== undefined);
  if (given.length > 1)
    throw new CliExit(EXIT.usage, 'give one of --key, --token and --token-from: a request carries one proof');
  if (options.key !== undefined) return { key: await privateKey(options.key) };
  if (options.token !== undefined) return { token: await tokenText(options.token, '--token') };
  if (options.tokenFrom !== undefined) {
    const clientId = env.WRIT_CLIENT_ID;
    const clientSecret = env.WRIT_CLIENT_SECRET;
    if (!clientId || !clientSecret)
      throw new CliExit(
        EXIT.usage,
        "--token-from needs the service's client credentials in WRIT_CLIENT_ID and WRIT_CLIENT_SECRET (never on the command line)",
      );
    const resource = options.tokenResource ?? env.WRIT_TOKEN_RESOURCE;
    const scope = options.tokenScope ?? env.WRIT_TOKEN_SCOPE;
    const issuer = options.tokenFrom;
    issuerUrl(issuer);
    return {
      token: () =>
        clientCredentialsToken({
          issuer,
          clientId,
          clientSecret,
          ...(resource ? { resource } : {}),
          ...(scope ? { scope } : {}),
        }),
    };
  }
  if (env.WRIT_TOKEN) return { token: await tokenText(env.WRIT_TOKEN, 'WRIT_TOKEN') };
  return undefined;
}

async function privateKey(file: string) {
  try {
    return createPrivateKey(await readFile(file, 'utf8'));
  } catch (error) {
    throw new CliExit(EXIT.usage, `cannot use the signing key ${file}: ${(error as Error).message}`);
  }
}

/** A token as given, or read from the file after "@" (which keeps it out of the process list). */
async function tokenText(value: string, what: string): Promise<string> {
  let token = value;
  if (value.startsWith('@')) {
    try {
      token = await readFile(value.slice(1), 'utf8');
    } catch (error) {
      throw new CliExit(
        EXIT.usage,
        `cannot read the token file ${value.slice(1)} (${what}): ${(error as Error).message}`,
      );
    }
  }
  token = token.trim();
  if (!token) throw new CliExit(EXIT.usage, `${what} is empty: give a token, or @<file> holding one`);
  return token;
}
