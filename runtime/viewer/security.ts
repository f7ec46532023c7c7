// Middleware that every request passes: security headers, the session, CSRF on every state
// change, the forced password change. Routes behind it can trust c.get('session').
import type { MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import type { CookieOptions } from 'hono/utils/cookie';
import { timingSafeEqual } from 'node:crypto';
import { HttpError, type ViewerContext, type ViewerEnv } from './context.js';

export const SESSION_COOKIE = 'mf_session';
export const LOGIN_CSRF_COOKIE = 'mf_login';

const CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export function cookieOptions(_c: ViewerContext, maxAgeSeconds?: number): CookieOptions {
  return { path: '/viewer', secure: true, httpOnly: true, sameSite: 'Strict', ...(maxAgeSeconds ? { maxAge: maxAgeSeconds } : {}) };
}

export function sameToken(given: string | undefined, expected: string | undefined): boolean {
  if (!given || !expected) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The appliance itself (its console, an SSH tunnel), not the network. */
export function isLoopback(address: string): boolean {
  return /^(127\.|::1$|::ffff:127\.)/.test(address);
}

export const securityHeaders: MiddlewareHandler<ViewerEnv> = async (c, next) => {
  await next();
  c.header('Content-Security-Policy', CSP);
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('X-Frame-Options', 'DENY');
  // same-origin, not no-referrer: under no-referrer browsers send "Origin: null" on our own forms.
  c.header('Referrer-Policy', 'same-origin');
  c.header('Strict-Transport-Security', 'max-age=31536000');
  c.header('Cache-Control', 'no-store');
};

const PUBLIC = new Set(['/viewer/login', '/viewer/static/style.css']);
/** Digest action links carry their own signed token instead of a session. */
export const isActionLink = (path: string) => path.startsWith('/viewer/a/');

/** Loads the session; without one, only the login page and the stylesheet are reachable. */
export const requireSession: MiddlewareHandler<ViewerEnv> = async (c, next) => {
  if (PUBLIC.has(c.req.path) || isActionLink(c.req.path)) return next();
  const session = await c.get('deps').accounts.session(getCookie(c, SESSION_COOKIE));
  if (!session) return c.req.method === 'GET' ? c.redirect('/viewer/login', 303) : c.text('Your session has ended; log in again.', 401);
  c.set('session', session);
  if (session.user.mustChangePassword && !['/viewer/account/password', '/viewer/logout'].includes(c.req.path))
    return c.redirect('/viewer/account/password', 303);
  return next();
};

function originHost(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null; // "null" (sandboxed frames, privacy modes) and garbage are never our own pages
  }
}

/** Every POST carries the session's token, and comes from our own pages. */
export const checkCsrf: MiddlewareHandler<ViewerEnv> = async (c, next) => {
  if (c.req.method !== 'POST') return next();
  const origin = c.req.header('origin');
  const host = c.req.header('host');
  if (origin && host && originHost(origin) !== host) return c.text('Cross-site request refused.', 403);
  if (c.req.path === '/viewer/login' || isActionLink(c.req.path)) return next();
  const body = await c.req.parseBody();
  // Thrown, not answered: the error page keeps the menu, the way back for a user whose form expired.
  if (!sameToken(typeof body._csrf === 'string' ? body._csrf : undefined, c.get('session').csrfToken))
    throw new HttpError(403, 'This form has expired (missing or wrong CSRF token). Go back, reload and try again.');
  return next();
};
