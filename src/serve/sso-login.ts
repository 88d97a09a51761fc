import type { IncomingMessage, ServerResponse } from 'node:http';
import * as oidc from 'openid-client';
import { loginName, personOfLogin } from '../identity/map-login.js';
import { html } from './html.js';
import { send, sendHtml } from './http.js';
import { page, problemPage } from './page-layout.js';
import type { SsoContext } from './sso.js';

/** Only pages of this server's approvals are returned to after a login: never an address from elsewhere. */
const RETURNABLE = /^\/approvals(?:\/[A-Za-z0-9._:-]+)?$/;

export function loginPath(returnTo: string, maxAge?: number): string {
  const query = new URLSearchParams({ return: returnTo });
  if (maxAge !== undefined) query.set('max_age', String(maxAge));
  return `/login?${query}`;
}

/**
 * Starts a login at the provider: authorization code with PKCE, a state for this browser's
 * session and a nonce for the ID token. `max_age` asks the provider for a login at most that old
 * (a rule that wants a fresh login), which it meets by asking the person to sign in again.
 */
export async function startLogin(sso: SsoContext, response: ServerResponse, query: URLSearchParams): Promise<void> {
  const requested = query.get('return') ?? '/approvals';
  const returnTo = RETURNABLE.test(requested) ? requested : '/approvals';
  const maxAgeText = query.get('max_age');
  const maxAge = maxAgeText && /^\d{1,9}$/.test(maxAgeText) ? Number(maxAgeText) : undefined;
  let config;
  try {
    config = await sso.provider();
  } catch (error) {
    const message = `The identity provider ${sso.options.issuer} could not be reached or read: ${describe(error)}. Try again in a moment.`;
    return sendHtml(response, 503, problemPage(503, 'Sign-in unavailable', message));
  }
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const session = sso.sessions.startLogin({
    state: oidc.randomState(),
    nonce: oidc.randomNonce(),
    codeVerifier,
    returnTo,
    ...(maxAge !== undefined ? { maxAge } : {}),
  });
  const pending = session.pending!;
  const target = oidc.buildAuthorizationUrl(config, {
    redirect_uri: sso.redirectUri(),
    scope: 'openid email',
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state: pending.state,
    nonce: pending.nonce,
    ...(maxAge !== undefined ? { max_age: String(maxAge) } : {}),
  });
  send(response, 302, '', { location: target.href, 'set-cookie': sso.sessions.cookie(session) });
}

/**
 * The provider's answer: the code is exchanged and the ID token checked in full by openid-client
 * (signature, issuer, audience, expiry, nonce, state, PKCE, and auth_time against max_age), then
 * mapped to a directory person. Only then is there a session that may decide.
 */
export async function finishLogin(
  sso: SsoContext,
  request: IncomingMessage,
  response: ServerResponse,
  baseUrl: string,
): Promise<void> {
  const session = sso.sessions.find(request);
  const pending = session?.pending;
  if (!session || !pending)
    return refuse(response, 400, 'This sign-in was not started here, or took too long. Start again.');
  let tokens;
  try {
    tokens = await oidc.authorizationCodeGrant(await sso.provider(), new URL(request.url ?? '/', baseUrl), {
      pkceCodeVerifier: pending.codeVerifier,
      expectedState: pending.state,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
      ...(pending.maxAge !== undefined ? { maxAge: pending.maxAge } : {}),
    });
  } catch (error) {
    sso.sessions.end(session);
    return refuse(response, 400, `The identity provider's answer was refused: ${describe(error)}. Start again.`);
  }
  const claims = tokens.claims()!;
  if (typeof claims.auth_time !== 'number') {
    sso.sessions.end(session);
    return refuse(
      response,
      400,
      'The identity provider did not say when you signed in (auth_time), so a decision could not show it.',
    );
  }
  const person = personOfLogin(await sso.options.people(), { ...claims, iss: claims.iss, sub: claims.sub });
  if (!person) {
    sso.sessions.end(session);
    return refuse(response, 403, `Your login (${loginName(claims)}) is nobody in Writ's directory of people.`);
  }
  const signedIn = sso.sessions.signedIn(
    session,
    {
      person: person.id,
      idToken: tokens.id_token!,
      issuer: claims.iss,
      subject: claims.sub,
      authTime: claims.auth_time,
    },
    claims.exp,
  );
  send(response, 303, '', { location: pending.returnTo, 'set-cookie': sso.sessions.cookie(signedIn) });
}

function describe(error: unknown): string {
  if (error instanceof oidc.AuthorizationResponseError || error instanceof oidc.ResponseBodyError)
    return error.error_description ? `${error.error} (${error.error_description})` : error.error;
  return (error as Error)?.message ?? String(error);
}

function refuse(response: ServerResponse, status: number, message: string): void {
  sendHtml(response, status, problemPage(status, 'Not signed in', message));
}

/** The page that asks someone to sign in, where a redirect is not possible (after a form's POST). */
export function signInPage(message: string, returnTo: string, maxAge?: number): string {
  return page(
    'Sign in',
    html`<section class="problem">
      <p class="kicker">Writ · approvals</p>
      <h1>Sign in</h1>
      <p>${message}</p>
      <p><a href="${loginPath(returnTo, maxAge)}">Sign in with your company account</a></p>
    </section>`,
  );
}
