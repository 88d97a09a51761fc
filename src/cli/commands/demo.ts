import type { Command } from 'commander';
import { runDemo } from '../../demo/demo.js';
import type { GlobalOptions } from '../shared/context.js';
import { CliExit } from '../shared/exit.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      "tell Writ's story on a stack of its own: a low-risk write, an approval, a rollback, a dry run, then the evidence; removes everything at the end",
    )
    .option('--keep', 'keep the stack running after the story (Web UI, timeline pages, database) until Ctrl-C')
    .option(
      '--json',
      'narrate on stderr; the last line on stdout is a JSON summary (the Temporal dev server prints its banner there first)',
    )
    .option(
      '--local-url <url>',
      'the local PostgreSQL tried when DATABASE_URL is unset or does not answer (default: $WRIT_DEMO_LOCAL_URL, else postgres://postgres@127.0.0.1:5432/postgres)',
    )
    .option('--no-embedded', 'fail instead of starting an embedded PostgreSQL when no server answers')
    .action(
      async (options: { keep?: boolean; json?: boolean; localUrl?: string; embedded: boolean }, command: Command) => {
        const globals = command.optsWithGlobals<GlobalOptions>();
        const databaseUrl = globals.databaseUrl ?? process.env.DATABASE_URL;
        const localUrl = options.localUrl ?? process.env.WRIT_DEMO_LOCAL_URL;
        const outcome = await runDemo({
          ...(databaseUrl ? { databaseUrl } : {}),
          ...(localUrl ? { localUrl } : {}),
          embedded: options.embedded,
          keep: options.keep ?? false,
          json: options.json ?? false,
          ...(process.env.WRIT_WORKFLOW_BUNDLE ? { workflowBundlePath: process.env.WRIT_WORKFLOW_BUNDLE } : {}),
        });
        if (outcome.exitCode === 130) {
          // Whatever was still starting when the signal came may hold the event loop open.
          console.error(`writ: ${outcome.message}`);
          process.exit(130);
        }
        if (outcome.exitCode !== 0) throw new CliExit(outcome.exitCode, outcome.message ?? 'the demo failed');
      },
    );
}
