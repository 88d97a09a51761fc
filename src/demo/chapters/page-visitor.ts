/**
 * A person at a browser, scripted: follows redirects, keeps each site's cookies, fills in forms.
 * The demo tells the approval chapter through `writ serve`'s approval page and the development
 * identity provider's sign-in, the same HTTP a browser would send, so what it shows is what an
 * approver meets (the tests drive the same pages in a real Chromium).
 */
export class PageVisitor {
  private readonly cookies = new Map<string, Map<string, string>>();

  /** GETs `url`, following redirects across sites; the final page and where it ended up. */
  async open(url: string): Promise<{ url: string; status: number; body: string }> {
    return this.follow(url, { method: 'GET' });
  }

  /** Submits a form's fields to `url` as a browser would (urlencoded), then follows redirects. */
  async submit(url: string, fields: Record<string, string>): Promise<{ url: string; status: number; body: string }> {
    return this.follow(url, {
      method: 'POST',
      body: new URLSearchParams(fields).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
  }

  private async follow(
    start: string,
    first: { method: string; body?: string; headers?: Record<string, string> },
  ): Promise<{ url: string; status: number; body: string }> {
    let url = start;
    let request = first;
    for (let hop = 0; hop < 20; hop++) {
      const target = new URL(url);
      const response = await fetch(url, {
        method: request.method,
        redirect: 'manual',
        headers: { ...request.headers, cookie: this.cookieHeader(target.origin), origin: target.origin },
        ...(request.body !== undefined ? { body: request.body } : {}),
        signal: AbortSignal.timeout(15_000),
      });
      this.keep(target.origin, response.headers.getSetCookie());
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        url = new URL(location, url).toString();
        request = { method: 'GET' };
        continue;
      }
      return { url, status: response.status, body: await response.text() };
    }
    throw new Error(`${start} redirected more than 20 times`);
  }

  private cookieHeader(origin: string): string {
    return [...(this.cookies.get(origin) ?? new Map<string, string>())].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private keep(origin: string, setCookies: string[]): void {
    const jar = this.cookies.get(origin) ?? new Map<string, string>();
    for (const line of setCookies) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      if (eq <= 0) continue;
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      // A cookie set to expire now is how a site deletes it.
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line)) jar.delete(name);
      else jar.set(name, value);
    }
    this.cookies.set(origin, jar);
  }
}

/** The value of a form field in a page (`<input name="csrf" value="...">`), or undefined. */
export function fieldValue(page: string, name: string): string | undefined {
  const tag = new RegExp(`<input[^>]*name="${name}"[^>]*>`).exec(page)?.[0];
  return tag ? /value="([^"]*)"/.exec(tag)?.[1] : undefined;
}

/** Where a form posts to (its `action`), resolved against the page's URL. */
export function formAction(page: string, pageUrl: string): string | undefined {
  const action = /<form[^>]*action="([^"]+)"/.exec(page)?.[1];
  return action ? new URL(action.replaceAll('&amp;', '&'), pageUrl).toString() : undefined;
}
