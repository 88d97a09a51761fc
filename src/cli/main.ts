#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerBundleCommands } from './commands/bundle.js';
import { registerCheckpointCommands } from './commands/checkpoint.js';
import { registerConnectors } from './commands/connectors.js';
import { registerDemo } from './commands/demo.js';
import { registerDev } from './commands/dev.js';
import { registerDoctor } from './commands/doctor.js';
import { registerHold } from './commands/hold.js';
import { registerMigrate } from './commands/migrate.js';
import { registerOperations } from './commands/operations.js';
import { registerSchema } from './commands/schema.js';
import { registerServe } from './commands/serve.js';
import { registerWorker } from './commands/worker.js';
import { registerRecord } from './commands/record.js';
import { registerReport } from './commands/report.js';
import { registerVerify } from './commands/verify.js';
import { registerWhatHappened } from './commands/what-happened.js';
import { registerPrivacy } from './commands/privacy.js';
import { EXIT, describeForHuman, exitCodeFor } from './shared/exit.js';

export function buildProgram(): Command {
  const program = new Command('writ')
    .description('Provable, governed writes for automation')
    .option(
      '--database-url <url>',
      'PostgreSQL holding the ledger (default: $DATABASE_URL, else postgres://postgres@127.0.0.1:5432/writ)',
    )
    .option('--temporal-address <host:port>', 'Temporal frontend (default: $TEMPORAL_ADDRESS, else 127.0.0.1:7233)')
    .option('--namespace <name>', 'Temporal namespace (default: $TEMPORAL_NAMESPACE, else default)')
    .option('--task-queue <name>', "task queue of Writ's workers (default: $WRIT_TASK_QUEUE, else writ)")
    .exitOverride()
    .showHelpAfterError('(run writ --help for usage)');
  registerMigrate(program);
  registerVerify(program);
  registerRecord(program);
  registerWorker(program);
  registerOperations(program);
  registerSchema(program);
  registerConnectors(program);
  registerCheckpointCommands(program);
  registerBundleCommands(program);
  registerWhatHappened(program);
  registerHold(program);
  registerReport(program);
  registerServe(program);
  registerDev(program);
  registerDemo(program);
  registerDoctor(program);
  registerPrivacy(program);
  return program;
}

async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed the usage problem (or the help text the user asked for).
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    console.error(describeForHuman(error));
    return exitCodeFor(error);
  }
}

process.exitCode = await main(process.argv);
