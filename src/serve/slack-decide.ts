import type { ServeContext } from './context.js';
import { signSlackAssertion } from './slack-assertion.js';
import type { SlackApprovals } from './slack-approvals.js';
import { slackEscape, slackMessage } from './slack-message.js';

/** A click that passed every check the server can make on its own. */
export interface SlackClick {
  kind: 'approve' | 'reject';
  operationId: string;
  /** The version of the operation the message showed when it was clicked. */
  digest: string;
  /** The directory person the Slack user is. */
  person: string;
  slack: { team: string; user: string };
  responseUrl?: string;
}

const POST_TIMEOUT_MS = 10_000;

/** The words a Slack decision carries: a button has no reason field, so the reason says where it came from. */
export function slackReason(click: Pick<SlackClick, 'kind' | 'person' | 'slack'>): string {
  return `${click.kind === 'approve' ? 'approved' : 'rejected'} in Slack by ${click.person} (${click.slack.team}/${click.slack.user})`;
}

/**
 * Sends the click to the operation as a decision carrying Writ's signed assertion, unless the
 * operation has moved on, changed, or wants single sign-on; tells the user what came of it. Never
 * rejects: every failure becomes a message to the user.
 */
export async function decideFromSlack(ctx: ServeContext, approvals: SlackApprovals, click: SlackClick): Promise<void> {
  const answer = await decide(ctx, approvals, click).catch((error: unknown) => {
    ctx.log(
      `writ serve: Slack ${click.kind} of ${click.operationId} failed: ${(error as Error).stack ?? String(error)}`,
    );
    return `Could not ${click.kind} \`${click.operationId}\`: an internal error (the writ serve log has the details).`;
  });
  await approvals.poster.refresh(click.operationId).catch(() => undefined);
  if (click.responseUrl) await tellUser(ctx, click.responseUrl, answer);
}

async function decide(ctx: ServeContext, approvals: SlackApprovals, click: SlackClick): Promise<string> {
  const id = slackEscape(click.operationId);
  const state = await approvals.writ.state(click.operationId);
  if (state.envelope?.policy.ssoRequired) {
    const page = `${ctx.baseUrl()}/approvals/${encodeURIComponent(click.operationId)}`;
    return `Operation \`${id}\` needs single sign-on: <${slackEscape(page)}|decide on the approval page>. Nothing was decided from Slack.`;
  }
  if (state.state !== 'awaiting_approval')
    return `Operation \`${id}\` no longer waits for approval (it is ${state.state.replace(/_/g, ' ')}). Nothing was decided.`;
  if (state.approvals.digest !== click.digest)
    return `Operation \`${id}\` changed since this message was posted; the message now shows the new version. Nothing was decided.`;
  const reason = slackReason(click);
  const assertion = await signSlackAssertion(
    approvals.signer,
    {
      person: click.person,
      kind: click.kind,
      operationId: click.operationId,
      digest: click.digest,
      reason,
      slack: click.slack,
    },
    ctx.now(),
  );
  const attempt = {
    approver: click.person,
    reason,
    digest: click.digest,
    proof: { kind: 'channel' as const, assertion },
  };
  const response =
    click.kind === 'approve'
      ? await approvals.writ.approve(click.operationId, attempt)
      : await approvals.writ.reject(click.operationId, attempt);
  if (!response.accepted)
    return `Your ${click.kind === 'approve' ? 'approval' : 'rejection'} of \`${id}\` was refused: ${slackEscape(response.refusal ?? 'no reason given')}. The refusal is recorded.`;
  return click.kind === 'approve'
    ? `You approved \`${id}\`${response.stillNeeded ? ` (${response.stillNeeded} more approval(s) needed)` : ''}.`
    : `You rejected \`${id}\`.`;
}

/** Ephemeral: the outcome of a click is for the person who clicked; the channel sees the updated message. */
export async function tellUser(ctx: ServeContext, responseUrl: string, text: string): Promise<void> {
  if (!/^https?:\/\//.test(responseUrl)) return;
  try {
    const posted = await fetch(responseUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...slackMessage(text), replace_original: false }),
      signal: AbortSignal.timeout(POST_TIMEOUT_MS),
    });
    await posted.body?.cancel();
    if (!posted.ok)
      ctx.log(`writ serve: Slack refused the answer to a click at its response_url (HTTP ${posted.status})`);
  } catch (error) {
    ctx.log(`writ serve: could not answer a Slack click at its response_url: ${(error as Error).message}`);
  }
}
