// The one page frame. Everything shown is escaped by JSX; no script is ever sent (CSP forbids it).
import type { Child, FC } from 'hono/jsx';
import type { ViewerUser } from '../accounts.js';

export const Layout: FC<{ title: string; user?: ViewerUser; csrfToken?: string; children?: Child }> = ({ title, user, csrfToken, children }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{title} · Mail filter quarantine</title>
      <link rel="stylesheet" href="/viewer/static/style.css" />
    </head>
    <body>
      <header>
        <a class="brand" href="/viewer/">Mail filter quarantine</a>
        {user && (
          <nav>
            <a href="/viewer/messages">Messages</a>
            {user.isAdmin && <a href="/viewer/admin">Administration</a>}
            {user.isAdmin && <a href="/viewer/admin/users">Users</a>}
            {user.source === 'local' && <a href="/viewer/account/password">Password</a>}
            <form method="post" action="/viewer/logout" class="inline">
              <input type="hidden" name="_csrf" value={csrfToken} />
              <button type="submit" class="link">Log out {user.username}</button>
            </form>
          </nav>
        )}
      </header>
      <main>{children}</main>
    </body>
  </html>
);

export const CsrfField: FC<{ token: string }> = ({ token }) => <input type="hidden" name="_csrf" value={token} />;

export const Notice: FC<{ kind: 'ok' | 'error'; text?: string }> = ({ kind, text }) => (text ? <p class={`notice ${kind}`}>{text}</p> : null);
