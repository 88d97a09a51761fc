import type { Command } from 'commander';
import { eraseSubject } from '../../privacy/erase.js';
import { loadPersonalData } from '../../privacy/config.js';
import { applyRetention } from '../../privacy/retention.js';
import { chainRouterFromEnv } from '../../ledger/chain-router.js';
import type { GlobalOptions } from '../shared/context.js';
import { withPool } from '../shared/context.js';
import { CliExit, EXIT } from '../shared/exit.js';

interface EraseOptions {
  subject: string;
  reason: string;
  by: string;
}

interface RetentionOptions {
  config?: string;
  now?: string;
  json?: boolean;
}

export function registerPrivacy(program: Command): void {
  program
    .command('erase')
    .description(
      'delete every personal value held for one data subject and append a privacy.erased record: chain, Merkle tree, checkpoints and bundles still verify; refused (and the refusal recorded) when any value is under a legal hold',
    )
    .requiredOption(
      '--subject <id>',
      'the data subject, as the personal data configuration names it (e.g. customer:public.customers/42)',
    )
    .requiredOption('--reason <text>', 'why (a request reference, the legal basis)')
    .requiredOption('--by <who>', 'who asked for the erasure (recorded; not verified)')
    .action(async (options: EraseOptions, command: Command) => {
      const erased = await withPool(command.optsWithGlobals<GlobalOptions>(), (pool) => eraseSubject(pool, options));
      console.log(
        `erased ${erased.values} value(s) of subject ${options.subject}; recorded as privacy.erased ${erased.eventIds.join(', ')}`,
      );
    });
  const retention = program
    .command('retention')
    .description('retention of personal and payload values kept beside the ledger');
  retention
    .command('apply')
    .description(
      'delete the values each retention class no longer keeps (legal holds excepted) and append one retention.applied record per class saying what was pruned and what was held back',
    )
    .option(
      '--config <file>',
      'the personal data configuration with its retention classes (default: $WRIT_PERSONAL_DATA)',
    )
    .option('--now <iso>', 'apply as of this instant instead of now (to check what a rule will do)')
    .option('--json', 'print each class run as JSON')
    .action(async (options: RetentionOptions, command: Command) => {
      const source = options.config ?? process.env.WRIT_PERSONAL_DATA;
      if (!source)
        throw new CliExit(EXIT.usage, 'no retention classes: give --config <file> or set WRIT_PERSONAL_DATA');
      const classes = loadPersonalData(source).config.retention;
      if (!classes.length) throw new CliExit(EXIT.usage, `${source} names no retention classes ("retention": [...])`);
      const now = options.now ? new Date(options.now) : new Date();
      if (Number.isNaN(now.getTime())) throw new CliExit(EXIT.usage, `--now ${options.now} is not a date`);
      const runs = await withPool(command.optsWithGlobals<GlobalOptions>(), (pool) =>
        applyRetention(pool, classes, now, chainRouterFromEnv().home),
      );
      for (const run of runs)
        console.log(
          options.json
            ? JSON.stringify(run)
            : `${run.class}: pruned ${run.pruned} value(s) that occurred before ${run.cutoff}; ${run.heldBack} held back by legal holds`,
        );
    });
}
