// Who may use the web server: whoever holds the token printed at start (as Jupyter does),
// from a page the server itself served. The token travels in the first URL's query and
// then in a header on every fetch (never in a cookie, which every other page on
// localhost would send along); a request whose Origin is another site is refused, so a
// page elsewhere cannot drive a logged-in tab's server (docs/web.md).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const TOKEN_HEADER = 'x-spyglass-token';

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Constant time whatever the lengths: both sides are hashed to the same size first. */
export function tokenMatches(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

/** The token of a request: the X-Spyglass-Token header, else ?token= in the URL. */
export function requestToken(req: IncomingMessage, url: URL): string | undefined {
  const h = req.headers[TOKEN_HEADER];
  if (typeof h === 'string') return h;
  return url.searchParams.get('token') ?? undefined;
}

/**
 * Why a request's Host or Origin is refused, or undefined when they are ours. On a
 * loopback address the Host must name it (a DNS-rebinding page reaches 127.0.0.1 under its
 * own name); an Origin, when the browser sends one, must be this server's own.
 */
export function refusedOrigin(req: IncomingMessage, allowedHosts: Set<string> | undefined): string | undefined {
  const host = req.headers.host ?? '';
  if (allowedHosts && !allowedHosts.has(host.toLowerCase())) return `unexpected Host header ${JSON.stringify(host)}`;
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${host}`) return `requests from ${JSON.stringify(origin)} are not allowed`;
  return undefined;
}
