import type { Command } from 'commander';
import { redactUrl } from '../../db/pool.js';
import { describeTimeline, describeWhatHappened, timeline, whatHappened, whatHappenedJson } from '../../evidence/what-happened/index.js';
import type { GlobalOptions } from '../context.js';
import { databaseUrlFrom, withPool } from '../context.js';
import { CliExit, EXIT } from '../exit.js';

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
        const found = await whatHappened(pool, id);
        const events = options.timeline || !found ? await timeline(pool, id) : undefined;
        if (!found) {
          if (!events?.length) throw new CliExit(EXIT.usage, `no operation or correlation id ${id} in the ledger at ${where}`);
          // The projection is derived and rebuilt from the records; when they disagree, the
          // records are the evidence and the projection is what is broken.
          if (events.some((event) => event.operationId !== null)) {
            throw new CliExit(EXIT.bad, `the ledger at ${where} has ${events.length} record(s) for ${id} but the what-happened view has none: `
              + 'rebuild it with `SELECT writ.rebuild_operations();` as the role that ran the migrations');
          }
          // Events that share a correlation id without belonging to any operation (manual notes).
          if (options.json) console.log(JSON.stringify(whatHappenedJson(null, id, events), null, 2));
          else console.log(`no operation under ${id}; ${events.length} event(s) carry it as correlation id\n\n${describeTimeline(events)}`);
          return;
        }
        if (options.json) console.log(JSON.stringify(whatHappenedJson(found, id, events), null, 2));
        else console.log(describeWhatHappened(found, events ? { timeline: events } : {}));
      });
    });
}
