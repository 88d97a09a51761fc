import type { WhatHappenedLink } from '../report/links.js';

/** What an alert is about: an operation stuck for a person, or a chain without a recent checkpoint. */
export type Alert =
  | { kind: 'operation.needs_intervention'; operationId: string; cause: string; failures: string[] }
  | { kind: 'checkpoint.stale'; chainId: string; checkpointedSize: number; uncoveredSince: string; maxAgeMs: number };

/** One alert's id: the receiver's Idempotency-Key, the same on every retry of the same alert. */
export function alertId(alert: Alert): string {
  return alert.kind === 'checkpoint.stale'
    ? `${alert.kind}:${alert.chainId}@${alert.checkpointedSize}`
    : `${alert.kind}:${alert.operationId}`;
}

/** The sentence a person reads: what happened, to what, and what to do. */
export function alertSummary(alert: Alert): string {
  if (alert.kind === 'operation.needs_intervention')
    return (
      `Operation ${alert.operationId} needs intervention: ${alert.cause}; rolling back failed: ` +
      `${alert.failures.join('; ')}. Resolve it with: writ resolve ${alert.operationId} --as <who> --action <what was done> --reason <why>`
    );
  const minutes = Math.round(alert.maxAgeMs / 60_000);
  return (
    `Chain ${alert.chainId} has records without a signed checkpoint since ${alert.uncoveredSince} ` +
    `(newest checkpoint covers ${alert.checkpointedSize} records; allowed age ${minutes} min). ` +
    "Check the worker's checkpoint schedule (writ-checkpoints) and its anchors."
  );
}

/** The webhook's JSON body. */
export function alertBody(alert: Alert, link: WhatHappenedLink | undefined, at: string): Record<string, unknown> {
  return {
    id: alertId(alert),
    ...alert,
    summary: alertSummary(alert),
    ...(link ? { whatHappened: link } : {}),
    at,
  };
}

/** The Slack message text (mrkdwn): the summary, and where to read the rest. */
export function alertSlackText(alert: Alert, link: WhatHappenedLink | undefined): string {
  const lines = [`:rotating_light: ${alertSummary(alert)}`];
  if (link) lines.push(link.url ? `What happened: <${link.url}|timeline>` : `What happened: \`${link.command}\``);
  return lines.join('\n');
}
