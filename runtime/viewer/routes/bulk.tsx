// Actions on the messages ticked in the list, and "Delete All". The list's form only asks (a GET
// to a page saying what will happen to which message); the POST from that page acts, message by
// message, through the same actions as a single click.
import { Hono } from 'hono';
import type { QuarantineEntry } from '../../quarantine/store.js';
import { listSenderOf, maySelfRelease } from '../../actions/quarantine-actions.js';
import type { Category } from '../../config/schema.js';
import { applyToMessages, deleteAllOwn, isBulkAction, MAX_BULK_MESSAGES, ownEntries, type BulkAction } from '../../actions/bulk-actions.js';
import { BulkConfirmPage, BulkResultPage, countOf } from '../views/bulk-pages.js';
import { DeleteAllPage } from '../views/delete-all-page.js';
import { actorOf, formOf, formValues, HttpError, type ViewerContext, type ViewerEnv } from '../context.js';
import { userQuery } from '../message-access.js';

/** What will happen to one message, in a few words. */
function planFor(c: ViewerContext, selfRelease: readonly Category[], action: BulkAction, entry: QuarantineEntry): string {
  const { user } = c.get('session');
  const sender = listSenderOf(entry);
  const release = maySelfRelease(selfRelease, user, entry) ? 'released' : 'a release request to the administrator';
  if (action === 'release') return release;
  if (action === 'allow')
    return entry.reason === 'SPAM' || sender ? `${sender ? `allow ${sender}; ` : 'no sender address to allow; '}${release}` : 'not possible: no sender address';
  if (action === 'block') return sender ? `block ${sender}; deleted` : 'not possible: no sender address';
  return 'deleted';
}

export const bulkRoutes = new Hono<ViewerEnv>()
  .get('/messages/bulk', async (c) => {
    const session = c.get('session');
    const action = c.req.query('action');
    if (!isBulkAction(action)) throw new HttpError(400, 'Choose what to do with the selected messages.');
    const ids = c.req.queries('id') ?? [];
    const [entries, { selfRelease }] = await Promise.all([ownEntries(c.get('deps'), actorOf(c), ids), c.get('deps').settings.admin()]);
    const missing = Math.min(new Set(ids).size, MAX_BULK_MESSAGES) - entries.length;
    return c.html(
      <BulkConfirmPage
        session={session}
        action={action}
        entries={entries}
        missing={missing}
        tooMany={ids.length > MAX_BULK_MESSAGES}
        plan={(entry) => planFor(c, selfRelease, action, entry)}
        postTo={`/viewer/messages/bulk${userQuery(c)}`}
        back={`/viewer/messages${userQuery(c)}`}
      />,
      entries.length === 0 ? 400 : 200,
    );
  })
  .post('/messages/bulk', async (c) => {
    const form = await formOf(c);
    if (!isBulkAction(form.action)) throw new HttpError(400, 'Choose what to do with the selected messages.');
    const ids = await formValues(c, 'id');
    if (ids.length === 0) throw new HttpError(400, 'No message selected.');
    const items = await applyToMessages(c.get('deps'), actorOf(c), form.action, ids);
    return c.html(<BulkResultPage session={c.get('session')} action={form.action} items={items} back={`/viewer/messages${userQuery(c)}`} />);
  })
  .get('/messages/delete-all', async (c) => {
    const session = c.get('session');
    if (session.user.isAdmin) throw new HttpError(403, 'The administrator clears the quarantine from the console.');
    const total = await c.get('deps').store.count({ addresses: session.user.addresses });
    return c.html(
      <DeleteAllPage
        session={session}
        title="Delete all?"
        heading="Delete all your quarantined messages?"
        text={
          total === 0
            ? 'Your quarantine is empty.'
            : `${countOf(total)} for ${session.user.addresses.join(', ')} will be deleted. Other recipients keep their copies. This cannot be undone.`
        }
        count={total}
        button={`Delete all ${countOf(total)}`}
        action="/viewer/messages/delete-all"
        back="/viewer/messages"
        backLabel="Back to the list"
      />,
    );
  })
  .post('/messages/delete-all', async (c) => {
    if (c.get('session').user.isAdmin) throw new HttpError(403, 'The administrator clears the quarantine from the console.');
    await deleteAllOwn(c.get('deps'), actorOf(c));
    return c.redirect('/viewer/messages?done=deleted-all', 303);
  });
