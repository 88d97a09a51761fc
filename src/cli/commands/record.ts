import type { Command } from 'commander';
import { GroupCommitAppender } from '../../ledger/appender.js';
import { chainRouterFromEnv } from '../../ledger/chain-router.js';
import { OperationChains, RoutedAppender } from '../../ledger/operation-chains.js';
import { loadPersonalData, sealingAppenderOptions } from '../../privacy/config.js';
import { hasCode } from '../../model/errors.js';
import { manualEventToDraft } from '../../ledger/manual-event.js';
import type { RecordDraft } from '../../ledger/record.js';
import type { GlobalOptions } from '../shared/context.js';
import { withPool } from '../shared/context.js';
import { CliExit, EXIT } from '../shared/exit.js';

interface RecordOptions {
  type?: string;
  actor?: string;
  message?: string;
  operation?: string;
  correlationId?: string;
}

export function registerRecord(program: Command): void {
  program
    .command('record')
    .description(
      'append manual events (an out-of-band change, an operator note): from flags, or one JSON object per line on standard input; a batch with any bad line writes nothing',
    )
    .option('--type <type>', 'event type, recorded as manual.<type> (note, change, ...)')
    .option('--actor <id>', 'who is recording this')
    .option('--message <text>', 'what happened, in plain words')
    .option('--operation <operationId>', 'the operation this event concerns')
    .option('--correlation-id <traceId>', 'the correlation id (W3C trace-id) this event belongs to')
    .action(async (options: RecordOptions, command: Command) => {
      const chains = chainRouterFromEnv();
      const drafts = options.type || options.actor || options.message ? [fromFlags(options)] : await fromStdin();
      // A note about an operation goes to that operation's chain; any other to the home chain (WRIT_CHAINS).
      const results = await withPool(command.optsWithGlobals<GlobalOptions>(), (pool) =>
        new RoutedAppender(
          new GroupCommitAppender(pool, sealingAppenderOptions(pool, personalDataFromEnv())),
          new OperationChains(pool, chains),
        ).appendAll(drafts),
      ).catch((error: unknown) => {
        if (hasCode(error, 'LEDGER_KEY_CONFLICT'))
          throw new CliExit(EXIT.bad, `refused: ${error.message}. A new event needs a new idempotencyKey.`);
        throw error;
      });
      for (const [index, result] of results.entries()) {
        console.log(
          `${result.duplicate ? 'already recorded' : 'recorded'}: chain ${result.chain} record ${result.seq} ${drafts[index]!.type} ${result.eventId}`,
        );
      }
    });
}

function fromFlags(options: RecordOptions): RecordDraft {
  const missing = (['type', 'actor', 'message'] as const).filter((flag) => !options[flag]);
  if (missing.length)
    throw new CliExit(
      EXIT.usage,
      `missing ${missing.map((flag) => `--${flag}`).join(', ')}: give --type, --actor and --message together, or pipe JSON lines on standard input`,
    );
  const converted = manualEventToDraft({
    type: options.type,
    actor: options.actor,
    message: options.message,
    ...(options.operation ? { operationId: options.operation } : {}),
    ...(options.correlationId ? { correlationId: options.correlationId } : {}),
  });
  if (!converted.ok) throw new CliExit(EXIT.bad, `event refused, nothing recorded: ${converted.problem}`);
  return converted.draft;
}

async function fromStdin(): Promise<RecordDraft[]> {
  if (process.stdin.isTTY)
    throw new CliExit(
      EXIT.usage,
      'nothing to record: pipe one JSON object per line on standard input, or use --type, --actor and --message',
    );
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  const drafts: RecordDraft[] = [];
  const problems: string[] = [];
  text.split('\n').forEach((line, index) => {
    if (!line.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      problems.push(`line ${index + 1}: not JSON (${(error as Error).message})`);
      return;
    }
    const converted = manualEventToDraft(value);
    if (converted.ok) drafts.push(converted.draft);
    else problems.push(`line ${index + 1}: ${converted.problem}`);
  });
  if (problems.length)
    throw new CliExit(EXIT.bad, `${problems.length} line(s) refused, nothing recorded:\n${problems.join('\n')}`);
  if (!drafts.length) throw new CliExit(EXIT.usage, 'nothing to record: standard input had no JSON lines');
  return drafts;
}

function personalDataFromEnv() {
  const source = process.env.WRIT_PERSONAL_DATA;
  return source ? loadPersonalData(source) : undefined;
}
