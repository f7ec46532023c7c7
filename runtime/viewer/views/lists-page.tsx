// The allow and block lists page: a user's own entries, or the global ones for the administrator.
import { Layout, CsrfField, Notice, PostButton, Table } from './layout.js';
import type { Session } from '../../accounts/viewer-accounts.js';
import type { ListEntry } from '../../lists/sender-lists.js';
import { utcDay } from '../../time/utc.js';

/** The notices of the page, by the key in ?done= (never text from the address bar). */
const DONE: Record<string, string> = {
  added: 'Saved. It applies to the next message.',
  removed: 'Entry removed.',
};

export function ListsPage({ session, done, error, entries }: { session: Session; done?: string; error?: string; entries: ListEntry[] }) {
  const admin = session.user.isAdmin;
  const now = Date.now();
  return (
    <Layout title="Allow & block lists" user={session.user} csrfToken={session.csrfToken}>
      <h1>{admin ? 'Global allow and block lists' : 'Your allow and block lists'}</h1>
      <Notice kind="ok" text={DONE[done ?? '']} />
      <Notice kind="error" text={error} />
      <p class="muted">
        {admin
          ? 'These apply to every recipient; a user’s own entries come first.'
          : 'Allowed senders skip the spam check (never the virus check); blocked senders’ mail is discarded.'}{' '}
        An exact address counts before *@domain.
      </p>
      <Table labels={['Sender', 'List', 'Expires', 'Added by', '']}>
        {entries.map((entry) => (
          <tr>
            <td>{entry.pattern}</td>
            <td>
              <span class={`list ${entry.kind}`}>{entry.kind}</span>
            </td>
            <td>{entry.expiresAt ? `${utcDay(entry.expiresAt)}${entry.expiresAt < now ? ' (expired)' : ''}` : 'never'}</td>
            <td>
              {entry.createdBy} <span class="muted">{utcDay(entry.createdAt)}</span>
            </td>
            <td>
              <PostButton action={`/viewer/lists/${entry.id}/delete`} token={session.csrfToken} kind="danger" inline>
                Remove
              </PostButton>
            </td>
          </tr>
        ))}
      </Table>
      {entries.length === 0 && <p class="muted">No entries yet.</p>}
      <form method="post" action="/viewer/lists/add" class="card filters">
        <CsrfField token={session.csrfToken} />
        <input type="text" name="pattern" placeholder="sender@example.com or *@example.com" aria-label="Sender" required />
        <select name="kind" aria-label="List">
          <option value="allow">Allow</option>
          <option value="block">Block</option>
        </select>
        <input type="date" name="expires" aria-label="Expires (optional)" title="Expires (optional)" />
        <button type="submit">Add</button>
      </form>
    </Layout>
  );
}
