import type { Command } from 'commander';
import { builtinConfigFromEnv } from '../../connectors/builtins/index.js';
import { capabilityMatrix } from '../../connectors/builtins/capabilities.js';
import type { GlobalOptions } from '../shared/context.js';
import { databaseUrlFrom } from '../shared/context.js';
import { formatDuration, table } from '../format/table.js';

export function registerConnectors(program: Command): void {
  program
    .command('connectors')
    .description(
      'the capability matrix: every built-in connector action, its dry-run support, side effects and rollback contract',
    )
    .option('--json', 'print the matrix as JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const rows = await capabilityMatrix(builtinConfigFromEnv(databaseUrlFrom(globals)));
      if (options.json) {
        console.log(JSON.stringify(rows, null, 2));
        return;
      }
      console.log(
        table(
          ['connector', 'action', 'dry run', 'side effects', 'rollback', 'window', 'configured', 'limitations'],
          rows.map((r) => [
            r.connector,
            r.action,
            r.supportsDryRun ? 'yes' : 'no',
            r.sideEffects,
            r.canRollback ? r.method : 'none (pivot)',
            formatDuration(r.windowMs),
            r.configured ? 'yes' : 'no',
            r.limitations,
          ]),
        ),
      );
    });
}
