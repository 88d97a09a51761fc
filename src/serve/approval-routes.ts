import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { OperationState } from '../model/operation.js';
import { approvalPage, inboxPage } from './approval-page.js';
import { sameSecret } from './constant-time.js';
import { readBody, send, sendProblem } from './http.js';
import type { ServeContext } from './context.js';
import { decide } from './approval-decision.js';
import type { SsoContext } from './sso.js';
import { finishLogin, loginPath, signInPage, startLogin } from './sso-login.js';
import type { Login, Session } from './sso-session.js';

export const APPROVAL_PATHS = ['/login', '/callback', '/logout', '/approvals'];
const OPERATION_PAGE = /^\/approvals\/([A-Za-z0-9._:-]{1,200})$/;
const FORM_LIMIT = 16 * 1024;

/** The approval pages submit forms to this server, and nowhere else. */
const PAGE_HEADERS: OutgoingHttpHeaders = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
};

export function isApprovalPath(path: string): boolean {
  return APPROVAL_PATHS.includes(path) || OPERATION_PAGE.test(path);
}

export async function approvalRoute(
  ctx: ServeContext,
  request: IncomingMessage,
  response: ServerResponse,
  path: string,
  query: URLSearchParams,
): Promise<void> {
  const sso = ctx.sso;
  if (!sso)
    return sendProblem(
      response,
      503,
      'Approvals are off',
      'Single sign-on is not configured (WRIT_OIDC_ISSUER).',
      true,
    );
  const method = request.method ?? 'GET';
  if (path === '/login' && method === 'GET') return startLogin(sso, response, query);
  if (path === '/callback' && method === 'GET') return finishLogin(sso, request, response, ctx.baseUrl());
  if (path === '/logout' && method === 'POST') return logout(sso, request, response);
  const operationId = OPERATION_PAGE.exec(path)?.[1];
  if (method === 'POST' && operationId) return post(ctx, sso, request, response, operationId);
  if (method !== 'GET')
    return sendProblem(
      response,
      405,
      'Method not allowed',
      'Open approval pages with GET; decide with the form.',
      true,
    );
  const session = sso.sessions.find(request);
  if (!session?.login) return redirect(response, loginPath(path));
  if (!operationId) return inbox(sso, response, { ...session, login: session.login });
  const state = await readState(sso, operationId);
  if (!state) return sendProblem(response, 404, 'No such operation', `Writ has no operation ${operationId}.`, true);
  const within = state.envelope?.policy.loginWithinSeconds;
  if (typeof within === 'number' && loginAge(ctx, session.login) > within)
    return redirect(response, loginPath(path, within));
  send(response, 200, approvalPage({ state, login: session.login, csrf: session.csrf }), PAGE_HEADERS);
}

async function post(
  ctx: ServeContext,
  sso: SsoContext,
  request: IncomingMessage,
  response: ServerResponse,
  operationId: string,
): Promise<void> {
  const form = new URLSearchParams((await readBody(request, FORM_LIMIT)).toString('utf8'));
  const returnTo = `/approvals/${operationId}`;
  const session: Session | undefined = sso.sessions.find(request);
  if (!session?.login) {
    const why = sso.sessions.hadSession(request)
      ? 'Your session has ended, so nothing was decided.'
      : 'You are not signed in, so nothing was decided.';
    return send(response, 401, signInPage(why, returnTo), PAGE_HEADERS);
  }
  const state = await readState(sso, operationId);
  if (!state) return sendProblem(response, 404, 'No such operation', `Writ has no operation ${operationId}.`, true);
  const within = state.envelope?.policy.loginWithinSeconds;
  if (typeof within === 'number' && loginAge(ctx, session.login) > within) {
    const message = `This decision needs a sign-in at most ${within} s old, and yours is ${loginAge(ctx, session.login)} s old. Nothing was decided.`;
    return send(response, 401, signInPage(message, returnTo, within), PAGE_HEADERS);
  }
  const result = await decide(ctx, sso, { session: { ...session, login: session.login }, form, state });
  if ('problem' in result) return sendProblem(response, result.status, result.title, result.problem, true);
  const fresh = (await readState(sso, operationId)) ?? state;
  send(
    response,
    result.outcome.accepted ? 200 : 409,
    approvalPage({ state: fresh, login: session.login, csrf: session.csrf, outcome: result.outcome }),
    PAGE_HEADERS,
  );
}

async function inbox(sso: SsoContext, response: ServerResponse, session: Session & { login: Login }): Promise<void> {
  const waiting = await sso.options.writ.awaitingApproval();
  const operations = await Promise.all(
    waiting.map(async ({ operationId }) => (await readState(sso, operationId).catch(() => null)) ?? { operationId }),
  );
  send(response, 200, inboxPage(session.login, session.csrf, operations), PAGE_HEADERS);
}

/** Signing out takes the session's CSRF token too: another site must not be able to end it either. */
async function logout(sso: SsoContext, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const form = new URLSearchParams((await readBody(request, FORM_LIMIT)).toString('utf8'));
  const session = sso.sessions.find(request);
  if (session && !sameSecret(session.csrf, form.get('csrf') ?? ''))
    return sendProblem(response, 403, 'Refused', 'The form did not carry this session’s CSRF token.', true);
  if (session) sso.sessions.end(session);
  send(response, 200, signInPage('You are signed out of Writ’s approval pages.', '/approvals'), {
    ...PAGE_HEADERS,
    'set-cookie': sso.sessions.expiredCookie(),
  });
}

async function readState(sso: SsoContext, operationId: string): Promise<OperationState | null> {
  try {
    return await sso.options.writ.state(operationId);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return null;
    throw error;
  }
}

function loginAge(ctx: ServeContext, login: Login): number {
  return Math.floor(ctx.now() / 1000) - login.authTime;
}

function redirect(response: ServerResponse, location: string): void {
  send(response, 302, '', { location });
}
