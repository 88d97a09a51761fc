import { hostname } from 'node:os';
import type { Command } from 'commander';
import { Option } from 'commander';
import { configFromEnv } from '../../config/writ-config.js';
import type { CheckResult } from '../../doctor/check.js';
import type { DoctorRole } from '../../doctor/context.js';
import { DOCTOR_ROLES } from '../../doctor/context.js';
import { runDoctor } from '../../doctor/run.js';
import type { GlobalOptions } from '../shared/context.js';
import type { TemporalOptions } from '../shared/temporal.js';
import { CliExit, EXIT } from '../shared/exit.js';

interface DoctorOptions {
  role: DoctorRole;
  json?: boolean;
  clockTolerance: string;
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      'check a deployment: Temporal, namespace, search attributes, a polling worker, database logins and row-level security, migrations, signing key, anchors, checkpoint freshness, identity provider, Slack, clock; each failure says how to fix it; exit 1 when any fails',
    )
    .addOption(
      new Option('--role <role>', 'the checks for one container: worker (its own poller), serve, or all')
        .choices(DOCTOR_ROLES)
        .default('all'),
    )
    .option('--json', 'print the checks as JSON')
    .option('--clock-tolerance <seconds>', "how far this host's clock may be from the database's", '2')
    .action(doctor);
}

async function doctor(options: DoctorOptions, command: Command): Promise<void> {
  const toleranceSeconds = Number(options.clockTolerance);
  if (!Number.isFinite(toleranceSeconds) || toleranceSeconds < 0)
    throw new CliExit(EXIT.usage, `--clock-tolerance must be a number of seconds, not "${options.clockTolerance}"`);
  const globals = command.optsWithGlobals<GlobalOptions & TemporalOptions>();
  const env = configFromEnv();
  const results = await runDoctor({
    role: options.role,
    config: {
      databaseUrl: globals.databaseUrl ?? env.databaseUrl,
      temporalAddress: globals.temporalAddress ?? env.temporalAddress,
      namespace: globals.namespace ?? env.namespace,
      taskQueue: globals.taskQueue ?? env.taskQueue,
    },
    env: process.env,
    host: hostname(),
    now: Date.now,
    clockToleranceMs: toleranceSeconds * 1000,
  });
  const failed = results.filter((result) => result.status === 'fail');
  if (options.json) console.log(JSON.stringify({ ok: failed.length === 0, checks: results }, null, 2));
  else for (const result of results) console.log(line(result));
  if (failed.length)
    throw new CliExit(
      EXIT.bad,
      `${failed.length} check${failed.length > 1 ? 's' : ''} failed: ${failed.map((r) => r.name).join(', ')}`,
    );
}

const LABELS = { ok: 'ok  ', fail: 'FAIL', skip: 'skip' } as const;

function line(result: CheckResult): string {
  return `${LABELS[result.status]} ${result.name}: ${result.detail}${result.fix ? `; fix: ${result.fix}` : ''}`;
}
