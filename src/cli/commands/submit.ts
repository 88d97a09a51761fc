import type { Command } from 'commander';
import type { WritClient } from '../../client.js';
import type { RequestIdentity } from '../../identity/request-proof.js';
import { hasCode } from '../../model/errors.js';
import { CliExit, EXIT } from '../shared/exit.js';
import type { TemporalOptions } from '../shared/temporal.js';
import { withWritClient } from '../shared/temporal.js';
import { readJson } from './request-file.js';
import type { SubmitIdentityOptions } from './submit-identity.js';
import { submitIdentity } from './submit-identity.js';

const globals = (command: Command) => command.optsWithGlobals<TemporalOptions>();

export function registerSubmit(program: Command): void {
  program
    .command('submit')
    .argument('<request.json>', 'the operation request (JSON; "-" for standard input); see `writ schema`')
    .description('start a governed write and print its operationId')
    .option('--wait', 'wait for the operation to close; exit 1 unless it succeeded (or was a dry run)')
    .option('--json', 'print the result as JSON')
    .option(
      '--key <file>',
      "prove who asks: sign the request with this Ed25519 private key (PEM); the directory lists its public key for the request's actor.id",
    )
    .option(
      '--token <token>',
      'prove who asks with a token from an identity provider the directory trusts ("@<file>" reads it from a file; default: WRIT_TOKEN); a token counts for one request',
    )
    .option(
      '--token-from <issuer>',
      "get a fresh client-credentials token from this identity provider (OpenID discovery) with the service's WRIT_CLIENT_ID and WRIT_CLIENT_SECRET",
    )
    .option(
      '--token-resource <uri>',
      'with --token-from: the API the token is for (RFC 8707; default: WRIT_TOKEN_RESOURCE)',
    )
    .option('--token-scope <scopes>', 'with --token-from: scopes to ask for (default: WRIT_TOKEN_SCOPE)')
    .addHelpText(
      'after',
      '\nPolicy refuses requests that prove no identity unless it opts out (identity.requests "asserted"); with a proof, the operation runs as the person it proves, whatever actor.id says.',
    )
    .action(async (path: string, options: SubmitOptions, command: Command) => {
      const request = await readJson(path);
      const identity = await submitIdentity(options);
      await withWritClient(globals(command), (writ) => submit(writ, request, { ...options, identity }));
    });
}

type SubmitOptions = { wait?: boolean; json?: boolean } & SubmitIdentityOptions;

async function submit(
  writ: WritClient,
  request: unknown,
  options: { wait?: boolean; json?: boolean; identity: RequestIdentity | undefined },
): Promise<void> {
  let started;
  try {
    started = await writ.start(request as never, options.identity ? { identity: options.identity } : {});
  } catch (error) {
    if (hasCode(error, 'INVALID_REQUEST') || hasCode(error, 'OPERATION_CONFLICT'))
      throw new CliExit(EXIT.bad, error.message);
    throw error;
  }
  if (!options.json)
    console.log(
      `${started.duplicate ? 'already submitted' : 'submitted'}: operation ${started.operationId} (correlation ${started.correlationId})`,
    );
  if (!options.wait) {
    if (options.json)
      console.log(
        JSON.stringify({
          operationId: started.operationId,
          correlationId: started.correlationId,
          duplicate: started.duplicate,
        }),
      );
    return;
  }
  const result = await writ.result(started.operationId);
  if (options.json) console.log(JSON.stringify({ ...result, duplicate: started.duplicate }));
  else console.log(`closed: ${result.outcome}`);
  if (result.outcome !== 'succeeded' && result.outcome !== 'dry_run')
    throw new CliExit(
      EXIT.bad,
      `operation ${started.operationId} closed as ${result.outcome}; see \`writ status ${started.operationId}\``,
    );
}
