// What every viewer route can reach: the stores, the config, and the request's session.
import type { Context } from 'hono';
import type { ActionDeps } from '../actions/services.js';
import type { Actor } from '../actions/quarantine-actions.js';
import type { Authenticate } from '../accounts/authenticate.js';
import type { Session } from '../accounts/viewer-accounts.js';

export interface ViewerDeps extends ActionDeps {
  authenticate: Authenticate;
}

export interface ViewerEnv {
  Variables: { session: Session; deps: ViewerDeps };
}

export type ViewerContext = Context<ViewerEnv>;

export class HttpError extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409 | 413 | 429 | 500,
    message: string,
  ) {
    super(message);
  }
}

export async function formOf(c: ViewerContext): Promise<Record<string, string>> {
  const body = await c.req.parseBody();
  return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, typeof v === 'string' ? v : '']));
}

export function clientAddress(c: ViewerContext): string {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress ?? 'unknown';
}

/** The logged-in user as the one acting, for the actions and the audit log. */
export function actorOf(c: ViewerContext): Actor {
  return { user: c.get('session').user, client: clientAddress(c), via: 'viewer' };
}

/** Every value of a repeated form field (a column of checkboxes); text values only. */
export async function formValues(c: ViewerContext, name: string): Promise<string[]> {
  const value = (await c.req.parseBody({ all: true }))[name];
  return (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
}
