import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import { html } from '../serve/html.js';
import { readBody } from '../serve/http.js';

/** A person the development provider can sign in: the subject is their directory id. */
export interface DevPerson {
  id: string;
  email?: string;
}

const LOGIN_BODY_LIMIT = 4096;

/**
 * The development provider's own interaction pages: a login form that takes a directory person's
 * id with no password, and a consent that is granted at once (Writ is the provider's only
 * relying party). Development only: anyone who can reach the form can be anyone in the list,
 * which is what a local stack wants and what no production provider may ever do.
 */
export function loginInteractions(provider: Provider, people: () => readonly DevPerson[]) {
  return async (request: IncomingMessage, response: ServerResponse, uid: string, action: string): Promise<void> => {
    const details = await provider.interactionDetails(request, response);
    if (details.uid !== uid) return plain(response, 400, 'this login belongs to another interaction');
    if (details.prompt.name === 'login') {
      if (request.method === 'POST' && action === 'login') {
        const body = new URLSearchParams((await readBody(request, LOGIN_BODY_LIMIT)).toString('utf8'));
        const id = body.get('person') ?? '';
        if (!people().some((person) => person.id === id))
          return page(response, 400, loginPage(uid, people(), `${id || 'nobody'} is not in the directory`));
        await provider.interactionFinished(request, response, { login: { accountId: id } });
        return;
      }
      return page(response, 200, loginPage(uid, people()));
    }
    if (details.prompt.name === 'consent') {
      await grantConsent(provider, details);
      await provider.interactionFinished(
        request,
        response,
        { consent: { grantId: details.grantId ?? '' } },
        { mergeWithLastSubmission: true },
      );
      return;
    }
    plain(response, 400, `the development provider cannot answer a ${details.prompt.name} prompt`);
  };
}

type InteractionDetails = Awaited<ReturnType<Provider['interactionDetails']>>;

/** Grants exactly what the prompt says is missing, as a consent screen's "yes" would. */
async function grantConsent(provider: Provider, details: InteractionDetails): Promise<void> {
  const accountId = details.session?.accountId;
  const clientId = details.params.client_id;
  if (!accountId || typeof clientId !== 'string') throw new Error('a consent prompt without a login or client');
  const grant = details.grantId
    ? ((await provider.Grant.find(details.grantId)) ?? new provider.Grant({ accountId, clientId }))
    : new provider.Grant({ accountId, clientId });
  const missing = details.prompt.details as {
    missingOIDCScope?: string[];
    missingOIDCClaims?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {}))
    grant.addResourceScope(indicator, scopes.join(' '));
  details.grantId = await grant.save();
}

function loginPage(uid: string, people: readonly DevPerson[], problem?: string): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title>Development sign-in</title>
      </head>
      <body>
        <h1>Development identity provider</h1>
        <p>For local use only: no password is asked. Sign in as a person from the directory.</p>
        ${problem ? html`<p role="alert">${problem}</p>` : ''}
        <form method="post" action="/interaction/${uid}/login">
          <label>Person <input name="person" autocomplete="off" list="people" autofocus /></label>
          <datalist id="people">${people.map((person) => html`<option value="${person.id}"></option>`)}</datalist>
          <button type="submit">Sign in</button>
        </form>
      </body>
    </html>`.text;
}

function page(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  response.end(body);
}

function plain(response: ServerResponse, status: number, message: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  response.end(`${message}\n`);
}
