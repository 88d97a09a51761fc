import type { Command } from 'commander';
import { redactUrl } from '../../db/pool.js';
import {
  describeTimeline,
  describeWhatHappened,
  findEvidence,
  whatHappenedJson,
} from '../../evidence/what-happened/index.js';
import type { GlobalOptions } from '../shared/context.js';
import { databaseUrlFrom, withPool } from '../shared/context.js';
import { CliExit, EXIT } from '../shared/exit.js';

export function registerWhatHappened(program: Command): void {
  program
    .command('what-happened')
    .argument('<id>', 'an operationId, or a correlation id (W3C trace-id) shared by one or more operations')
    .description('what happened, from the ledger: who asked, why, what changed, approvals, compensations, verdict')
    .option('--timeline', 'list every recorded event in order, read from the ledger records themselves')
    .option('--json', 'print as JSON (with --timeline, the full records too)')
    .action(async (id: string, options: { timeline?: boolean; json?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const where = redactUrl(databaseUrlFrom(globals));
      await withPool(globals, async (pool) => {
        const evidence = await findEvidence(pool, id, { timeline: Boolean(options.timeline) });
        if (!evidence) throw new CliExit(EXIT.usage, `no operation or correlation id ${id} in the ledger at ${where}`);
        const { summary: found, events } = evidence;
        if (!found) {
          // Events that share a correlation id without belonging to any operation (manual notes).
          const notes = events ?? [];
          if (options.json) console.log(JSON.stringify(whatHappenedJson(null, id, notes), null, 2));
          else
            console.log(
              `no operation under ${id}; ${notes.length} event(s) carry it as correlation id\n\n${describeTimeline(notes)}`,
            );
          return;
        }
        if (options.json) console.log(JSON.stringify(whatHappenedJson(found, id, events), null, 2));
        else console.log(describeWhatHappened(found, events ? { timeline: events } : {}));
      });
    });
}
