import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Who signed in, as the provider's verified ID token says and the directory maps it. */
export interface Login {
  /** The directory person the login maps to. */
  person: string;
  idToken: string;
  issuer: string;
  subject: string;
  /** When they last signed in at the provider (seconds since the epoch). */
  authTime: number;
}

/** A login under way: what the callback must find again (RFC 9700: state, nonce and PKCE). */
export interface PendingLogin {
  state: string;
  nonce: string;
  codeVerifier: string;
  returnTo: string;
  maxAge?: number;
}

export interface Session {
  id: string;
  /** Put in every form and checked on every POST: another site can make a browser post, not read this. */
  csrf: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  login?: Login;
  pending?: PendingLogin;
}

const PENDING_TTL_MS = 10 * 60_000;

/**
 * Sessions held by the server, found by a random id in an HttpOnly cookie: nothing in the cookie
 * is worth stealing but the id, and a session ends on the server when its time is up, whatever the
 * browser keeps. Lost on restart, which costs a login.
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly options: { ttlMs: number; now: () => number; secure: boolean }) {}

  get cookieName(): string {
    // __Host- binds the cookie to this exact origin (no Domain, Path=/, Secure): only over https.
    return this.options.secure ? '__Host-writ_session' : 'writ_session';
  }

  find(request: IncomingMessage): Session | undefined {
    const id = readCookie(request.headers.cookie, this.cookieName);
    const session = id ? this.sessions.get(id) : undefined;
    if (!session) return undefined;
    if (session.expiresAt <= this.options.now()) {
      this.sessions.delete(session.id);
      return undefined;
    }
    return session;
  }

  /** Whether the request named a session that has ended (as opposed to none at all). */
  hadSession(request: IncomingMessage): boolean {
    return readCookie(request.headers.cookie, this.cookieName) !== undefined;
  }

  /** A session for a login that is starting; it lives only as long as a login may take. */
  startLogin(pending: PendingLogin): Session {
    return this.create({ pending }, PENDING_TTL_MS);
  }

  /**
   * After a login a new id and CSRF token: whatever id a browser held before proves nothing now.
   * The session ends with the ID token at the latest (`tokenExpiresAt`, seconds): a decision's
   * proof carries that token, and the worker refuses one that had expired when the decision was made.
   */
  signedIn(previous: Session, login: Login, tokenExpiresAt: number): Session {
    this.sessions.delete(previous.id);
    const untilTokenExpires = tokenExpiresAt * 1000 - this.options.now();
    return this.create({ login }, Math.min(this.options.ttlMs, untilTokenExpires));
  }

  end(session: Session): void {
    this.sessions.delete(session.id);
  }

  cookie(session: Session): string {
    const maxAge = Math.max(0, Math.floor((session.expiresAt - this.options.now()) / 1000));
    return `${this.cookieName}=${session.id}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${this.options.secure ? '; Secure' : ''}`;
  }

  /** Tells the browser to forget its session cookie. */
  expiredCookie(): string {
    return `${this.cookieName}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${this.options.secure ? '; Secure' : ''}`;
  }

  private create(content: Pick<Session, 'login' | 'pending'>, ttlMs: number): Session {
    this.sweep();
    const session: Session = {
      id: randomBytes(32).toString('base64url'),
      csrf: randomBytes(32).toString('base64url'),
      expiresAt: this.options.now() + ttlMs,
      ...content,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  private sweep(): void {
    const now = this.options.now();
    for (const [id, session] of this.sessions) if (session.expiresAt <= now) this.sessions.delete(id);
  }
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
