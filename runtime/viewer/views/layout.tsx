// The one page frame. Everything shown is escaped by JSX; no script is ever sent (CSP forbids it).
import type { Child, FC } from 'hono/jsx';
import { raw } from 'hono/html';
import type { ViewerUser } from '../../accounts/viewer-accounts.js';

// Without the doctype browsers render in quirks mode (forms grow margins, tables lose fonts).
export const Layout: FC<{ title: string; user?: ViewerUser; csrfToken?: string; children?: Child }> = ({ title, user, csrfToken, children }) => (
  <>
    {raw('<!DOCTYPE html>')}
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{title} · Mail filter quarantine</title>
        <link rel="stylesheet" href="/viewer/static/style.css" />
      </head>
      <body>
        <header>
          <a class="brand" href="/viewer/">
            Mail filter quarantine
          </a>
          {user && (
            <nav>
              <a href="/viewer/messages">Messages</a>
              {user.isAdmin && <a href="/viewer/admin">Administration</a>}
              <a href="/viewer/lists">Allow &amp; block lists</a>
              {!user.isAdmin && <a href="/viewer/account/digest">Digest</a>}
              {user.isAdmin && <a href="/viewer/admin/requests">Requests</a>}
              {user.isAdmin && <a href="/viewer/admin/users">Users</a>}
              {user.isAdmin && <a href="/viewer/admin/audit">Audit</a>}
              {user.source === 'local' && <a href="/viewer/account/password">Password</a>}
              <PostButton action="/viewer/logout" token={csrfToken ?? ''} kind="link" inline>
                Log out {user.username}
              </PostButton>
            </nav>
          )}
        </header>
        <main>{children}</main>
      </body>
    </html>
  </>
);

export const CsrfField: FC<{ token: string }> = ({ token }) => <input type="hidden" name="_csrf" value={token} />;

/** A one-button form for a state change, carrying the session's CSRF token. */
export const PostButton: FC<{ action: string; token: string; kind?: 'danger' | 'link'; inline?: boolean; title?: string; children?: Child }> = ({
  action,
  token,
  kind,
  inline,
  title,
  children,
}) => (
  <form method="post" action={action} class={inline ? 'inline' : undefined}>
    <CsrfField token={token} />
    <button type="submit" class={kind} title={title}>
      {children}
    </button>
  </form>
);

/** A form's submit button, on a line of its own. */
export const SubmitButton: FC<{ children?: Child }> = ({ children }) => (
  <p>
    <button type="submit">{children}</button>
  </p>
);

export const Notice: FC<{ kind: 'ok' | 'error'; text?: string }> = ({ kind, text }) => (text ? <p class={`notice ${kind}`}>{text}</p> : null);

/** A table with a heading row of plain cells ('' for a column without a heading); the children are its rows. */
export const Table: FC<{ labels: string[]; class?: string; children?: Child }> = ({ labels, class: className, children }) => (
  <table class={className}>
    <thead>
      <tr>
        {labels.map((label) => (
          <th>{label}</th>
        ))}
      </tr>
    </thead>
    <tbody>{children}</tbody>
  </table>
);
