// Allow and block lists (a user's own; the administrator's are the global ones). The filter reads
// them on every message, so a change counts at once.
import { Hono } from 'hono';
import { ListsPage } from '../views/lists-page.js';
import { actorOf, formOf, HttpError, type ViewerContext, type ViewerEnv } from '../context.js';
import { listOwnerOf, normalisePattern } from '../../lists/sender-lists.js';
import { addListEntry, removeListEntry } from '../../actions/list-actions.js';

/** The list this session edits: the user's own, or the global one for the administrator. */
const ownerOf = (c: ViewerContext) => listOwnerOf(c.get('session').user);

/** The page with this session's entries, and a refusal when a form was refused. */
const listsPage = async (c: ViewerContext, error?: string) => (
  <ListsPage session={c.get('session')} done={c.req.query('done')} error={error} entries={await c.get('deps').lists.list(ownerOf(c))} />
);

export const listRoutes = new Hono<ViewerEnv>()
  .get('/lists', async (c) => c.html(await listsPage(c)))
  .post('/lists/add', async (c) => {
    const form = await formOf(c);
    const again = async (error: string) => c.html(await listsPage(c, error), 400);
    const pattern = normalisePattern(form.pattern ?? '');
    if (!pattern) return again(`"${(form.pattern ?? '').slice(0, 100)}" is neither an e-mail address nor *@domain.`);
    if (form.kind !== 'allow' && form.kind !== 'block') return again('Choose allow or block.');
    let expiresAt: number | null = null;
    if (form.expires) {
      expiresAt = Date.parse(`${form.expires}T23:59:59Z`);
      if (!Number.isFinite(expiresAt)) return again('The expiry is not a date.');
      if (expiresAt < Date.now()) return again('The expiry date has already passed.');
    }
    await addListEntry(c.get('deps'), actorOf(c), { kind: form.kind, pattern, expiresAt });
    return c.redirect('/viewer/lists?done=added', 303);
  })
  .post('/lists/:id/delete', async (c) => {
    // Users edit their own list only, the administrator any; others' entries are as unknown ones.
    if (!(await removeListEntry(c.get('deps'), actorOf(c), Number(c.req.param('id'))))) throw new HttpError(404, 'No such list entry.');
    return c.redirect('/viewer/lists?done=removed', 303);
  });
