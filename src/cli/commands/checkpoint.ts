import { join } from 'node:path';
import type { Command } from 'commander';
import { writeCheckpoint } from '../../evidence/checkpointer.js';
import type { WrittenCheckpoint } from '../../evidence/checkpointer.js';
import { evidenceConfigFromEnv } from '../../evidence/config.js';
import { preflightAnchors } from '../../evidence/anchor-preflight.js';
import { loadSigner, writeSigningKey } from '../../evidence/keys.js';
import { hasCode } from '../../model/errors.js';
import { listChains } from '../../ledger/reader.js';
import type { GlobalOptions } from '../shared/context.js';
import { withPool } from '../shared/context.js';
import { CliExit, EXIT } from '../shared/exit.js';

export function registerCheckpointCommands(program: Command): void {
  registerKeygen(program);
  registerCheckpoint(program);
}

function registerKeygen(program: Command): void {
  program
    .command('keygen')
    .description(
      'make an Ed25519 key for signing checkpoints: <name>.key (private, keep it secret) and <name>.pub (the verifier key auditors get)',
    )
    .requiredOption('--out <dir>', 'directory to write the key files to')
    .option('--name <name>', 'the key name in signature lines', 'writ')
    .action(keygen);
}

async function keygen(options: { out: string; name: string }): Promise<void> {
  let key;
  try {
    key = await writeSigningKey(options.out, options.name);
  } catch (error) {
    if ((error as { code?: string }).code === 'EEXIST')
      throw new CliExit(
        EXIT.usage,
        `${join(options.out, `${options.name}.key`)} exists: a signing key is never overwritten; choose another --out or --name`,
      );
    if (hasCode(error, 'KEY_NAME')) throw new CliExit(EXIT.usage, error.message);
    throw error;
  }
  console.log(`signing key: ${key.path} (set WRIT_SIGNING_KEY to it)`);
  console.log(`verifier key: ${key.verifierKey} (give it to auditors; set WRIT_VERIFIER_KEY to it)`);
}

function registerCheckpoint(program: Command): void {
  program
    .command('checkpoint')
    .description(
      "sign a checkpoint of every chain's Merkle root now and anchor it (WRIT_ANCHOR_DIR, WRIT_ANCHOR_DATABASE_URL, WRIT_ANCHOR_S3_BUCKET) and time-stamp it (WRIT_TSA_URL); connects as WRIT_CHECKPOINT_DATABASE_URL when set",
    )
    .option('--chain <chain>', 'only this chain')
    .action(checkpoint);
}

async function checkpoint(options: { chain?: string }, command: Command): Promise<void> {
  const config = evidenceConfigFromEnv();
  if (!config.signingKeyPath)
    throw new CliExit(
      EXIT.usage,
      'no signing key: make one with `writ keygen --out <dir>` and set WRIT_SIGNING_KEY to its .key file',
    );
  const signer = await loadSigner(config.signingKeyPath, config.keyName).catch((error: Error) => {
    throw new CliExit(EXIT.usage, error.message);
  });
  if (!config.anchors.length)
    console.error(
      'warning: no anchors configured (WRIT_ANCHOR_DIR, WRIT_ANCHOR_DATABASE_URL, WRIT_ANCHOR_S3_BUCKET): a superuser could rewrite the checkpoints with the ledger',
    );
  try {
    await preflightAnchors(config.anchors).catch((error: Error) => {
      throw new CliExit(EXIT.usage, error.message);
    });
    // The checkpointer's own login when one is configured; an explicit --database-url wins.
    const globals = command.optsWithGlobals<GlobalOptions>();
    await withPool(
      globals.databaseUrl || !config.checkpointDatabaseUrl ? globals : { databaseUrl: config.checkpointDatabaseUrl },
      async (pool) => {
        const chains = options.chain ? [options.chain] : await listChains(pool);
        if (!chains.length) console.log('ledger is empty: nothing to checkpoint');
        for (const chainId of chains)
          printCheckpoint(
            chainId,
            await writeCheckpoint(pool, chainId, {
              signer,
              origin: config.origin,
              anchors: config.anchors,
              ...(config.tsa ? { tsa: config.tsa } : {}),
            }),
          );
      },
    );
  } finally {
    for (const sink of config.anchors) await sink.close?.();
  }
}

function printCheckpoint(chainId: string, written: WrittenCheckpoint): void {
  console.log(
    `chain ${chainId}: checkpoint at ${written.size} records, root ${written.root}${written.anchoredIn.length ? `, anchored in ${written.anchoredIn.join(', ')}` : ''}${written.genTime ? `, time-stamped ${written.genTime}` : ''}`,
  );
  console.log(
    written.note
      .trimEnd()
      .split('\n')
      .map((line) => `  ${line}`)
      .join('\n'),
  );
}
