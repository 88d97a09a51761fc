import { PageVisitor, fieldValue, formAction } from './page-visitor.js';

export interface PageDecision {
  accepted: boolean;
  /** What the approval page said back: counted, or the workflow's refusal. */
  message: string;
  /** What the approver was shown before deciding, as the page put it. */
  shown: string;
}

/**
 * One person's decision through writ serve's approval page: open the link, sign in at the identity
 * provider, read the page, approve or reject with a reason. What a person at a browser does, so
 * the proof on the record is the one a real approval carries (a channel assertion over their login).
 */
export async function decideThroughPage(
  serveUrl: string,
  operationId: string,
  person: string,
  decision: 'approve' | 'reject',
  reason: string,
): Promise<PageDecision> {
  const visitor = new PageVisitor();
  const pageUrl = `${serveUrl}/approvals/${encodeURIComponent(operationId)}`;
  const signIn = await visitor.open(pageUrl);
  const loginAction = formAction(signIn.body, signIn.url);
  if (!loginAction)
    throw new Error(`the approval link did not lead to a sign-in form (${signIn.url}, ${signIn.status})`);
  const page = await visitor.submit(loginAction, { person });
  const csrf = fieldValue(page.body, 'csrf');
  const digest = fieldValue(page.body, 'digest');
  if (page.status !== 200 || !csrf || !digest)
    throw new Error(
      `after signing in as ${person}, the approval page has no decision form (${page.url}, ${page.status})`,
    );
  const answer = await visitor.submit(pageUrl, { csrf, digest, reason, decision });
  const badge = /<span class="badge">([^<]*)<\/span><span class="outcome">([^<]*)<\/span>/.exec(answer.body);
  if (!badge) throw new Error(`the approval page did not say what became of the decision (${answer.status})`);
  return { accepted: badge[1] !== 'Refused', message: decodeEntities(badge[2]!), shown: visibleText(page.body) };
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(?:amp|lt|gt|quot|#39);/g, (entity) => ENTITIES[entity]!);
}

/** A page's words, for the narrator: tags and styles out, white space folded. */
function visibleText(page: string): string {
  const body = page.replace(/<(style|script)[^>]*>[\s\S]*?<\/\1>/g, ' ').replace(/<[^>]+>/g, ' ');
  return decodeEntities(body).replace(/\s+/g, ' ').trim();
}
