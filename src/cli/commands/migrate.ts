import type { Command } from 'commander';
import { migrate } from '../../ledger/migrate.js';
import type { GlobalOptions } from '../shared/context.js';
import { databaseUrlFrom } from '../shared/context.js';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('create the database if needed and apply the ledger migrations (safe to run again)')
    .action(async (_options: object, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const applied = await migrate(databaseUrlFrom(globals), {
        createDatabase: true,
        log: (line) => console.log(line),
      });
      if (!applied.length) console.log('ledger schema is up to date');
    });
}
