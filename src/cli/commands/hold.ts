import type { Command } from 'commander';
import { table } from '../format/table.js';
import type { Hold } from '../../privacy/holds.js';
import { activeHolds, allHolds, placeHold, releaseHold } from '../../privacy/holds.js';
import { describeScope } from '../../privacy/holds-read.js';
import type { GlobalOptions } from '../shared/context.js';
import { withPool } from '../shared/context.js';

interface AddOptions {
  operation?: string;
  correlation?: string;
  actor?: string;
  from?: string;
  to?: string;
  reason?: string;
  by?: string;
}

interface ReleaseOptions {
  reason?: string;
  by?: string;
}

export function registerHold(program: Command): void {
  const hold = program
    .command('hold')
    .description(
      'legal holds: while one is in force, no personal value it covers can be erased (by writ erase, retention or anyone bypassing them)',
    );
  hold
    .command('add')
    .description('place a hold over one operation, one correlation id, one actor, or a span of time; prints its id')
    .option('--operation <operationId>', 'hold every value recorded under this operation')
    .option('--correlation <traceId>', 'hold every value recorded under this correlation id (W3C trace-id)')
    .option('--actor <id>', 'hold every value recorded with this actor')
    .option('--from <time>', 'with --to: hold every value whose record occurred in this span (a date or RFC 3339 time)')
    .option('--to <time>', 'the end of the span, included (a date alone means to its end)')
    .option('--reason <text>', 'why: the matter, the request or the order that requires the hold')
    .option('--by <person>', 'who places it (recorded as asserted: nothing proves it)')
    .action(async (options: AddOptions, command: Command) => {
      const receipt = await withPool(command.optsWithGlobals<GlobalOptions>(), (pool) =>
        placeHold(pool, {
          scope: {
            operationId: options.operation,
            correlationId: options.correlation,
            actorId: options.actor,
            from: options.from,
            to: options.to,
          },
          reason: options.reason ?? '',
          by: options.by ?? '',
        }),
      );
      console.log(`placed hold ${receipt.holdId}: chain ${receipt.chain} record ${receipt.seq} hold.placed`);
    });
  hold
    .command('release <holdId>')
    .description('release a hold in force; the hold and its release stay on the record')
    .option('--reason <text>', 'why the hold ends')
    .option('--by <person>', 'who releases it (recorded as asserted: nothing proves it)')
    .action(async (holdId: string, options: ReleaseOptions, command: Command) => {
      const receipt = await withPool(command.optsWithGlobals<GlobalOptions>(), (pool) =>
        releaseHold(pool, { holdId, reason: options.reason ?? '', by: options.by ?? '' }),
      );
      console.log(`released hold ${receipt.holdId}: chain ${receipt.chain} record ${receipt.seq} hold.released`);
    });
  hold
    .command('list')
    .description('the holds in force, oldest first')
    .option('--all', 'released holds too')
    .option('--json', 'print as JSON')
    .action(async (options: { all?: boolean; json?: boolean }, command: Command) => {
      const holds = await withPool(command.optsWithGlobals<GlobalOptions>(), (pool) =>
        options.all ? allHolds(pool) : activeHolds(pool),
      );
      if (options.json) console.log(JSON.stringify(holds, null, 2));
      else console.log(holdsTable(holds, options.all ?? false));
    });
}

function holdsTable(holds: Hold[], all: boolean): string {
  if (!holds.length) return all ? 'no holds have been placed' : 'no holds in force';
  const headers = ['hold', 'covers', 'placed', 'by', ...(all ? ['released'] : []), 'reason'];
  const rows = holds.map((hold) => [
    hold.holdId,
    describeScope(hold.scope),
    hold.placedAt,
    hold.placedBy,
    ...(all
      ? [hold.released ? `${hold.released.at} by ${hold.released.by}: ${hold.released.reason}` : 'in force']
      : []),
    hold.reason,
  ]);
  return table(headers, rows);
}
