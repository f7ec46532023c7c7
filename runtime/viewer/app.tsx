// The quarantine viewer: routes composed under /viewer, behind the security middleware.
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ViewerDeps, ViewerEnv } from './context.js';
import type { Session } from '../accounts/viewer-accounts.js';
import { HttpError } from './context.js';
import { checkCsrf, requireSession, securityHeaders } from './security.js';
import { loginRoutes, accountRoutes } from './routes/login.js';
import { messageRoutes } from './routes/messages.js';
import { bulkRoutes } from './routes/bulk.js';
import { digestRoutes } from './routes/digest.js';
import { adminRoutes } from './routes/admin.js';
import { linkRoutes } from './routes/links.js';
import { listRoutes } from './routes/lists.js';
import { Layout } from './views/layout.js';
import { STYLESHEET } from './static.js';
import { logger } from '../log.js';
import { ActionFailed } from '../actions/quarantine-actions.js';
import { isDatabaseUnavailable } from '../storage/unavailable.js';

const log = logger('viewer');

/** Every form the viewer has fits in a few KB (a user's address list is the longest); bodies are read whole. */
export const MAX_BODY_BYTES = 64 * 1024;

/** An error keeps the page frame, and the menu when someone is logged in. */
function ErrorPage({ c, heading, text }: { c: Context<ViewerEnv>; heading: string; text: string }) {
  const session = c.get('session') as Session | undefined;
  return (
    <Layout title={heading} user={session?.user} csrfToken={session?.csrfToken}>
      <div class="card confirm">
        <h1>{heading}</h1>
        <p>{text}</p>
        <p>
          <a href="/viewer/">Back to the start</a>
        </p>
      </div>
    </Layout>
  );
}

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
  // Before messageRoutes: /messages/bulk is not a message id.
  app.route('/', bulkRoutes);
  app.route('/', messageRoutes);
  app.route('/', digestRoutes);
  app.route('/', adminRoutes);
  app.route('/', linkRoutes);
  app.route('/', listRoutes);
  app.notFound((c) => c.html(<ErrorPage c={c} heading="Not found" text="There is no such page." />, 404));
  app.onError((err, c) => {
    if (err instanceof ActionFailed) return c.html(<ErrorPage c={c} heading="Not done" text={err.message} />, 409);
    // The shared database down (or restarting): a plain page, nothing of the error shown.
    if (isDatabaseUnavailable(err)) {
      log.warn('database unavailable', { path: c.req.path, error: err.message });
      c.header('Retry-After', '30');
      return c.html(<ErrorPage c={c} heading="Try again shortly" text="The quarantine database cannot be reached just now. Try again in a minute." />, 503);
    }
    const status = err instanceof HttpError ? err.status : 500;
    if (status === 500) log.error('request failed', { path: c.req.path, error: err.message, stack: err.stack?.split('\n').slice(0, 3).join(' | ') });
    const text = err instanceof HttpError ? err.message : 'Something went wrong on the appliance; the details are in its log.';
    return c.html(<ErrorPage c={c} heading={status === 404 ? 'Not found' : status === 403 ? 'Not allowed' : 'Error'} text={text} />, status);
  });
  return app;
}
