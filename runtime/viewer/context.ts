// What every viewer route can reach: the stores, the config, and the request's session.
import type { Context } from 'hono';
import type { AppConfig } from '../config/schema.js';
import type { QuarantineStore } from '../quarantine/store.js';
import type { Reinjector } from '../filter/deliver.js';
import type { Session, ViewerAccounts, ViewerUser } from './accounts.js';

/** Checks a user's password, locally or against the directory; null when refused. */
export type Authenticate = (username: string, password: string) => Promise<ViewerUser | null>;

export interface ViewerDeps {
  config: AppConfig;
  store: QuarantineStore;
  accounts: ViewerAccounts;
  reinjector: Reinjector;
  authenticate: Authenticate;
}

export interface ViewerEnv {
  Variables: { session: Session; deps: ViewerDeps };
}

export type ViewerContext = Context<ViewerEnv>;

export class HttpError extends Error {
  constructor(readonly status: 400 | 403 | 404 | 409 | 429 | 500, message: string) {
    super(message);
  }
}

export async function formOf(c: ViewerContext): Promise<Record<string, string>> {
  const body = await c.req.parseBody();
  return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, typeof v === 'string' ? v : '']));
}
