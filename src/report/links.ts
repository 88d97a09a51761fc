import { signedUrl } from '../serve/signed-links.js';

/** Where a reader of the report goes for the whole story of one operation. */
export interface WhatHappenedLink {
  /** Always there: the command that prints the story from the ledger. */
  command: string;
  /** A signed timeline link of `writ serve`, when the report was made with a public URL and link secret. */
  url?: string;
}

export interface LinkSettings {
  /** `writ serve`'s public base URL (WRIT_PUBLIC_URL). */
  baseUrl: string;
  /** WRIT_LINK_SECRET. */
  secret: string;
  /** Whom the links are made for: every use is recorded under this name (FORMAT 11). */
  requester: string;
  /** Unix seconds. */
  expires: number;
}

/** Shell-quotes an id so the command can be pasted whatever the id holds. */
function quoted(id: string): string {
  return /^[A-Za-z0-9._:/-]+$/.test(id) ? id : `'${id.replace(/'/g, `'\\''`)}'`;
}

export function whatHappenedLink(id: string, links: LinkSettings | null): WhatHappenedLink {
  const command = `writ what-happened ${quoted(id)} --timeline`;
  if (!links) return { command };
  return {
    command,
    url: signedUrl(links.baseUrl.replace(/\/+$/, ''), links.secret, {
      format: 'timeline',
      id,
      requester: links.requester,
      expires: links.expires,
    }),
  };
}
