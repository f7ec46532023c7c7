// The quarantine viewer: routes composed under /viewer, behind the security middleware.
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ViewerDeps, ViewerEnv } from './context.js';
import { HttpError } from './context.js';
import { checkCsrf, requireSession, securityHeaders } from './security.js';
import { loginRoutes, accountRoutes } from './routes/login.js';
import { messageRoutes } from './routes/messages.js';
import { adminRoutes } from './routes/admin.js';
import { linkRoutes } from './routes/links.js';
import { listRoutes } from './routes/lists.js';
import { Layout } from './views/layout.js';
import { STYLESHEET } from './static.js';
import { logger } from '../log.js';
import { ActionFailed } from '../actions/quarantine-actions.js';

const log = logger('viewer');

/** Every form the viewer has fits in a few KB (a user's address list is the longest); bodies are read whole. */
export const MAX_BODY_BYTES = 64 * 1024;

export function createViewerApp(deps: ViewerDeps): Hono<ViewerEnv> {
  const app = new Hono<ViewerEnv>().basePath('/viewer');
  app.use('*', securityHeaders);
  // Before anything reads a body: the login page is open to everyone.
  app.use('*', bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => c.text(`Request too large: at most ${MAX_BODY_BYTES / 1024} KB.`, 413) }));
  app.use('*', async (c, next) => {
    c.set('deps', deps);
    await next();
  });
  app.get('/static/style.css', (c) => c.body(STYLESHEET, 200, { 'Content-Type': 'text/css; charset=utf-8', 'Cache-Control': 'max-age=3600' }));
  app.use('*', requireSession);
  app.use('*', checkCsrf);
  app.route('/', loginRoutes);
  app.route('/', accountRoutes);
  app.route('/', messageRoutes);
  app.route('/', adminRoutes);
  app.route('/', linkRoutes);
  app.route('/', listRoutes);
  app.notFound((c) => c.html(<Layout title="Not found"><h1>Not found</h1><p>There is no such page. <a href="/viewer/">Back to the start</a>.</p></Layout>, 404));
  app.onError((err, c) => {
    if (err instanceof ActionFailed) return c.html(<Layout title="Not done"><h1>Not done</h1><p>{err.message}</p><p><a href="/viewer/">Back to the start</a></p></Layout>, 409);
    const status = err instanceof HttpError ? err.status : 500;
    if (status === 500) log.error('request failed', { path: c.req.path, error: err.message, stack: err.stack?.split('\n').slice(0, 3).join(' | ') });
    const text = err instanceof HttpError ? err.message : 'Something went wrong on the appliance; the details are in its log.';
    return c.html(<Layout title="Error"><h1>{status === 404 ? 'Not found' : status === 403 ? 'Not allowed' : 'Error'}</h1><p>{text}</p><p><a href="/viewer/">Back to the start</a></p></Layout>, status);
  });
  return app;
}
