// Allow and block lists (a user's own; the administrator's are the global ones). The filter reads
// them on every message, so a change counts at once.
import { Hono } from 'hono';
import { Layout, CsrfField, Notice, PostButton, Table } from '../views/layout.js';
import { actorOf, formOf, HttpError, type ViewerContext, type ViewerEnv } from '../context.js';
import { listOwnerOf, normalisePattern, type ListEntry } from '../../lists/sender-lists.js';
import { addListEntry, removeListEntry } from '../../actions/list-actions.js';
import { utcDay } from '../../time/utc.js';

const DONE: Record<string, string> = {
  added: 'Saved. It applies to the next message.',
  removed: 'Entry removed.',
};

/** The list this session edits: the user's own, or the global one for the administrator. */
const ownerOf = (c: ViewerContext) => listOwnerOf(c.get('session').user);

function ListsPage({ c, error, entries }: { c: ViewerContext; error?: string; entries: ListEntry[] }) {
  const session = c.get('session');
  const admin = session.user.isAdmin;
  const now = Date.now();
  return (
    <Layout title="Allow & block lists" user={session.user} csrfToken={session.csrfToken}>
      <h1>{admin ? 'Global allow and block lists' : 'Your allow and block lists'}</h1>
      <Notice kind="ok" text={DONE[c.req.query('done') ?? '']} />
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

export const listRoutes = new Hono<ViewerEnv>()
  .get('/lists', (c) => c.html(<ListsPage c={c} entries={c.get('deps').lists.list(ownerOf(c))} />))
  .post('/lists/add', async (c) => {
    const form = await formOf(c);
    const again = (error: string) => c.html(<ListsPage c={c} error={error} entries={c.get('deps').lists.list(ownerOf(c))} />, 400);
    const pattern = normalisePattern(form.pattern ?? '');
    if (!pattern) return again(`"${(form.pattern ?? '').slice(0, 100)}" is neither an e-mail address nor *@domain.`);
    if (form.kind !== 'allow' && form.kind !== 'block') return again('Choose allow or block.');
    let expiresAt: number | null = null;
    if (form.expires) {
      expiresAt = Date.parse(`${form.expires}T23:59:59Z`);
      if (!Number.isFinite(expiresAt)) return again('The expiry is not a date.');
      if (expiresAt < Date.now()) return again('The expiry date has already passed.');
    }
    addListEntry(c.get('deps'), actorOf(c), { kind: form.kind, pattern, expiresAt });
    return c.redirect('/viewer/lists?done=added', 303);
  })
  .post('/lists/:id/delete', (c) => {
    // Users edit their own list only, the administrator any; others' entries are as unknown ones.
    if (!removeListEntry(c.get('deps'), actorOf(c), Number(c.req.param('id')))) throw new HttpError(404, 'No such list entry.');
    return c.redirect('/viewer/lists?done=removed', 303);
  });
