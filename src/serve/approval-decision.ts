import { signChannelAssertion } from '../identity/channel-signer.js';
import type { OperationState } from '../model/operation.js';
import type { DecisionOutcome } from './approval-page.js';
import { sameSecret } from './constant-time.js';
import type { ServeContext } from './context.js';
import type { SsoContext } from './sso.js';
import type { Session } from './sso-session.js';

type Login = NonNullable<Session['login']>;

export type DecisionResult = { outcome: DecisionOutcome } | { status: number; title: string; problem: string };

const DIGEST = /^[0-9a-f]{64}$/;

/**
 * One decision from the approval form: the session's CSRF token must come back with it, then
 * this channel signs that the signed-in person made exactly this decision (operation, digest,
 * reason, with the login's ID token under it) and sends it. The worker checks all of it again and
 * judges it; its answer, a refusal included, is what the page shows.
 */
export async function decide(
  ctx: ServeContext,
  sso: SsoContext,
  input: { session: Session & { login: Login }; form: URLSearchParams; state: OperationState },
): Promise<DecisionResult> {
  const { session, state } = input;
  const form = readForm(session, input.form, state);
  if (!('decision' in form)) return form;
  const { decision, reason, digest } = form;
  const assertion = await signChannelAssertion(sso.options.channel, {
    subject: session.login.person,
    channel: 'sso',
    decision,
    operationId: state.operationId,
    digest,
    reason,
    idToken: session.login.idToken,
    at: Math.floor(ctx.now() / 1000),
  });
  const attempt = { approver: session.login.person, reason, digest, proof: { kind: 'channel' as const, assertion } };
  try {
    const writ = sso.options.writ;
    const answer =
      decision === 'approve'
        ? await writ.approve(state.operationId, attempt)
        : await writ.reject(state.operationId, attempt);
    if (!answer.accepted) return { outcome: { decision, accepted: false, message: answer.refusal ?? 'refused' } };
    return { outcome: { decision, accepted: true, message: countedMessage(decision, answer.stillNeeded) } };
  } catch (error) {
    ctx.log(`writ serve: the ${decision} of ${state.operationId} could not be sent: ${(error as Error).message}`);
    return {
      outcome: { decision, accepted: false, message: `Not delivered to the operation: ${(error as Error).message}` },
    };
  }
}

type Decision = 'approve' | 'reject';

/** The form's decision, reason and digest, or why nothing may be decided from it. */
function readForm(
  session: Session,
  form: URLSearchParams,
  state: OperationState,
): { decision: Decision; reason: string; digest: string } | DecisionResult {
  if (!sameSecret(session.csrf, form.get('csrf') ?? ''))
    return {
      status: 403,
      title: 'Refused',
      problem:
        'The form did not carry this session’s CSRF token, so it may not come from this page: nothing was decided.',
    };
  const decision = form.get('decision');
  if (decision !== 'approve' && decision !== 'reject')
    return { status: 400, title: 'Refused', problem: 'The form must say approve or reject.' };
  // The workflow trims the reason before it hashes it; the assertion must bind the same words.
  const reason = (form.get('reason') ?? '').trim();
  if (!reason || reason.length > 2000)
    return { status: 400, title: 'Refused', problem: 'Say why, in at most 2000 characters.' };
  const digest = form.get('digest') ?? '';
  if (!DIGEST.test(digest)) return { status: 400, title: 'Refused', problem: 'The form lost the approval digest.' };
  if (digest !== state.approvals.digest)
    return {
      outcome: {
        decision,
        accepted: false,
        message: 'The operation changed since this page was shown (its approval digest differs): read it again.',
      },
    };
  return { decision, reason, digest };
}

function countedMessage(decision: Decision, stillNeeded: number): string {
  if (decision === 'reject') return 'Your rejection was counted: the operation will not run.';
  return stillNeeded > 0
    ? `Your approval was counted; ${stillNeeded} more needed.`
    : 'Your approval was counted; no more are needed, so the operation goes ahead.';
}
