import type { KnownBlock } from '@slack/web-api';
import { NOT_VERIFIED } from '../model/identity-proof.js';
import type { OperationState } from '../model/operation.js';
import { slackEscape } from './slack-message.js';

/** The buttons' action ids: what the interactivity endpoint reads to know what was clicked. */
export const SLACK_ACTIONS = { approve: 'writ_approve', reject: 'writ_reject', openPage: 'writ_open_page' } as const;

/** Slack's limit on a button's value; an operation id and a digest fit well within it. */
const MAX_VALUE = 2000;

/** What a decision button carries: the operation and the exact version (digest) the message showed. */
export function buttonValue(operationId: string, digest: string): string {
  return `${operationId} ${digest}`.slice(0, MAX_VALUE);
}

export function parseButtonValue(value: unknown): { operationId: string; digest: string } | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^([A-Za-z0-9][A-Za-z0-9._:-]{0,127}) ([0-9a-f]{64})$/.exec(value);
  return match ? { operationId: match[1]!, digest: match[2]! } : undefined;
}

export interface SlackApprovalMessage {
  /** The notification text (and what screen readers and old clients show). */
  text: string;
  blocks: KnownBlock[];
  /** True once the operation no longer waits: the message loses its buttons and is not updated again. */
  final: boolean;
}

const section = (text: string): KnownBlock => ({
  type: 'section',
  text: { type: 'mrkdwn', text: text.slice(0, 3000) },
});

/** Who asked, and whether a proof established it: an unproved requester is said to be so. */
function requesterLine(state: OperationState): string {
  const actor = state.envelope?.actor ?? state.request.actor;
  const proved = 'identity' in actor && actor.identity === 'verified';
  return `*Requested by* ${slackEscape(actor.id)}${proved ? ' (identity verified)' : ` (${NOT_VERIFIED})`}`;
}

function details(state: OperationState): string {
  const policy = state.envelope?.policy;
  const steps = state.request.steps
    .map((step, index) => `${index + 1}. \`${slackEscape(`${step.connector}.${step.action} ${step.target}`)}\``)
    .join('\n');
  return [
    requesterLine(state),
    `*Why* ${slackEscape(state.request.intent)}`,
    `*Steps*\n${steps}`,
    policy ? `*Risk* ${policy.risk}${policy.matchedRules.length ? ` (${policy.matchedRules.join(', ')})` : ''}` : '',
    `*Approvals* ${state.approvals.granted.length} of ${state.approvals.required}${state.approvals.deadline ? `, until ${state.approvals.deadline}` : ''}`,
    state.approvals.digest ? `*Digest* \`${state.approvals.digest}\`` : '',
  ]
    .filter(Boolean)
    .join('\n');
}

function grantedLine(state: OperationState): string {
  return state.approvals.granted
    .map((approval) => `approved by ${slackEscape(approval.approver)} (${approval.channel ?? 'asserted'})`)
    .join(', ');
}

/**
 * The buttons for an operation waiting now. Where policy wants single sign-on the only button is a
 * link to the approval page: a click in Slack cannot carry a login, so it must not decide.
 */
function actions(state: OperationState, approvalPageUrl: string): KnownBlock {
  if (state.envelope?.policy.ssoRequired)
    return {
      type: 'actions',
      elements: [
        {
          type: 'button',
          action_id: SLACK_ACTIONS.openPage,
          text: { type: 'plain_text', text: 'Open the approval page (single sign-on)' },
          url: approvalPageUrl,
        },
      ],
    };
  const value = buttonValue(state.operationId, state.approvals.digest ?? '');
  return {
    type: 'actions',
    block_id: `writ:${state.approvals.digest ?? 'none'}`.slice(0, 255),
    elements: [
      {
        type: 'button',
        action_id: SLACK_ACTIONS.approve,
        style: 'primary',
        text: { type: 'plain_text', text: 'Approve' },
        value,
      },
      {
        type: 'button',
        action_id: SLACK_ACTIONS.reject,
        style: 'danger',
        text: { type: 'plain_text', text: 'Reject' },
        value,
      },
    ],
  };
}

/** How the operation stands, as the channel sees it: waiting (with buttons) or moved on (without). */
export function approvalMessage(state: OperationState, approvalPageUrl: string): SlackApprovalMessage {
  const id = slackEscape(state.operationId);
  if (state.state === 'awaiting_approval') {
    const needed = state.approvals.stillNeeded;
    return {
      text: `Approval needed: ${id} (${needed} more)`,
      blocks: [
        section(`*Approval needed* for operation \`${id}\` (${needed} more)`),
        section(details(state)),
        actions(state, approvalPageUrl),
      ],
      final: false,
    };
  }
  const closed = state.state === 'closed';
  const where = closed ? `closed, ${state.outcome ?? 'no outcome'}` : state.state.replace(/_/g, ' ');
  const granted = grantedLine(state);
  return {
    text: `Operation ${id}: ${where}`,
    blocks: [
      section(`*Operation* \`${id}\`: *${slackEscape(where)}*${granted ? `\n${granted}` : ''}`),
      section(details(state)),
    ],
    final: closed,
  };
}
