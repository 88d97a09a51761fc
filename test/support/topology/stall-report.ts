/**
 * What a fault test saw when the ledger stopped growing: whether each process still runs, what it
 * last complained about, and where a few open operations wait. CI keeps only the tail of its log,
 * so the failure message itself must name the stuck part (worker, Temporal node, the database or
 * the test's own clients); the whole of each process's output goes to test-artifacts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { REPO_ROOT } from '../cli.js';
import type { WorkerProcess } from '../worker-process.js';
import type { TemporalNode } from './temporal-node.js';

export interface StallWitnesses {
  workers: WorkerProcess[];
  nodes: TemporalNode[];
  client: Client;
  /** Operations that may still be open; a few of them are described. */
  operationIds: string[];
  /** What the test's own steps were doing (decisions made, the last error they met). */
  progress?: Record<string, unknown>;
}

const COMPLAINT = /\b(WARN|ERROR|error|Error|panick|fatal|FATAL)\b/;
/** Temporal logs JSON lines, and names an error in many lines it logs at info. */
const NODE_COMPLAINT = /"level":"(?:warn|error|dpanic|panic|fatal)"/;
const LINES_EACH = 4;
const OPERATIONS_DESCRIBED = 3;

/** The last lines of `output` that match `complaint`, one short line each. */
function complaints(output: string, complaint = COMPLAINT): string[] {
  return output
    .split('\n')
    .filter((line) => complaint.test(line))
    .slice(-LINES_EACH)
    .map((line) => `    ${line.replace(/\s+/g, ' ').slice(0, 300)}`);
}

function alive(child: { exitCode: number | null; signalCode: NodeJS.Signals | null }): string {
  return child.exitCode === null && child.signalCode === null
    ? 'running'
    : `exited (${child.exitCode ?? child.signalCode})`;
}

async function whereOperationsWait(client: Client, operationIds: string[]): Promise<string[]> {
  const lines: string[] = [];
  for (const id of operationIds) {
    if (lines.length >= OPERATIONS_DESCRIBED) break;
    try {
      const { status, raw } = await client.workflow.getHandle(id).describe();
      if (status.name !== 'RUNNING') continue;
      const task = raw.pendingWorkflowTask;
      const activities = (raw.pendingActivities ?? []).map(
        (activity) =>
          `${activity.activityType?.name} attempt ${activity.attempt} state ${activity.state}` +
          (activity.lastFailure?.message ? ` (last failure: ${activity.lastFailure.message})` : ''),
      );
      lines.push(
        `  ${id}: ${raw.workflowExecutionInfo?.historyLength} events` +
          (task ? `; workflow task state ${task.state} attempt ${task.attempt}` : '; no workflow task pending') +
          (activities.length ? `; ${activities.join('; ')}` : ''),
      );
    } catch (error) {
      lines.push(`  ${id}: describe failed: ${(error as Error).message}`);
    }
  }
  return lines.length ? lines : ['  none of them is open, or none could be described'];
}

/**
 * What each Temporal node last said that matches `about` (and every line of it, in test-artifacts):
 * for a step that failed on what a node of the cluster answered.
 */
export function nodesSaying(nodes: readonly TemporalNode[], about: RegExp, name: string): string {
  const dir = join(REPO_ROOT, 'test-artifacts', name);
  mkdirSync(dir, { recursive: true });
  const lines = nodes.flatMap((node) => {
    writeFileSync(join(dir, `temporal-${node.ip}.log`), node.output());
    return [`temporal node ${node.ip}:`, ...complaints(node.output(), about)];
  });
  return [...lines, `(full outputs in ${dir})`].join('\n');
}

/** A short account for the failure message; the full outputs are written to test-artifacts. */
export async function stallReport(fault: string, witnesses: StallWitnesses): Promise<string> {
  const dir = join(REPO_ROOT, 'test-artifacts', `stall-${fault}`);
  mkdirSync(dir, { recursive: true });
  const lines: string[] = [];
  witnesses.workers.forEach((worker, index) => {
    writeFileSync(join(dir, `worker-${index}.log`), worker.output());
    lines.push(`worker ${index}: ${alive(worker.child)}`, ...complaints(worker.output()));
  });
  for (const node of witnesses.nodes) {
    writeFileSync(join(dir, `temporal-${node.ip}.log`), node.output());
    const state = await Promise.race([
      node.exited.then(() => 'exited'),
      new Promise<string>((resolve) => setImmediate(() => resolve('running'))),
    ]);
    lines.push(`temporal node ${node.ip}: ${state}`, ...complaints(node.output(), NODE_COMPLAINT));
  }
  if (witnesses.progress) lines.push(`test steps: ${JSON.stringify(witnesses.progress)}`);
  lines.push('open operations:', ...(await whereOperationsWait(witnesses.client, witnesses.operationIds)));
  lines.push(`(full outputs in ${dir})`);
  return lines.join('\n');
}
