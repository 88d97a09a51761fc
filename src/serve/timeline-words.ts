import type { TimelineEvent } from '../evidence/what-happened/index.js';

/**
 * Words the timeline page and the Slack timeline modal share, so that both say the same thing
 * about the same record.
 */

/**
 * Who acted. A workflow's records carry the requester as their actor, so for a decision the
 * person who made it (the approver, the one who resolved) is in the payload; showing the
 * requester beside "approved by bob" would tell a reader alice approved.
 */
export function who(e: TimelineEvent): string {
  for (const key of ['approver', 'by']) {
    const value = e.payload[key];
    if (typeof value === 'string' && value) return value;
  }
  const approvers = e.payload.approvers;
  if (Array.isArray(approvers) && approvers.length && approvers.every((a) => typeof a === 'string'))
    return approvers.join(', ');
  return e.actor?.id ?? '-';
}

/** Lifecycle states as words: awaiting_approval reads "awaiting approval". */
export function words(state: string): string {
  return state.replace(/_/g, ' ');
}

/** The states an operation went through, in order, each once per visit. */
export function lifecycleStates(events: TimelineEvent[]): string[] {
  const states: string[] = [];
  for (const event of events) if (event.state && event.state !== states.at(-1)) states.push(event.state);
  return states;
}

/** For a decision: whether the approver was the requester, which policy usually forbids. */
export function approverRelation(e: TimelineEvent, requester: string | undefined): string {
  const approver = typeof e.payload.approver === 'string' ? e.payload.approver : null;
  if (!approver || !requester) return '';
  return approver === requester ? ' (the requester themselves)' : ' (not the requester)';
}
