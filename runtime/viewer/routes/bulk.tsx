// Actions on the messages ticked in the list, and "Delete All". The list's form only asks (a GET
// to a page saying what will happen to which message); the POST from that page acts, message by
// message, through the same actions as a single click.
import { Hono } from 'hono';
import { displayText, subjectShown } from '../../quarantine/display.js';
import type { QuarantineEntry } from '../../quarantine/store.js';
import { listSenderOf, maySelfRelease } from '../../actions/quarantine-actions.js';
import { applyToMessages, deleteAllOwn, isBulkAction, MAX_BULK_MESSAGES, ownEntries, type BulkAction, type BulkItem } from '../../actions/bulk-actions.js';
import { CsrfField, Layout } from '../views/layout.js';
import { ReceivedFromCells, SHOWN_CHARS } from '../views/message-bits.js';
import { actorOf, formOf, formValues, HttpError, type ViewerContext, type ViewerEnv } from '../context.js';
import { listUrl, type ListState } from '../list-query.js';
import { userQuery } from '../message-access.js';

/** The notices of the list after Delete All, by the key in ?done=. */
export const BULK_DONE: Record<string, string> = {
  'deleted-all': 'All your quarantined messages were deleted.',
};

/** What each choice of the list's bulk form is called, and what its confirmation says happens. */
const CHOICES: Record<BulkAction, { label: string; button: string; explain: (admin: boolean) => string }> = {
  release: {
    label: 'Release',
    button: 'Release',
    explain: () => 'Each message is sent on to its recipients. Messages of a kind the administrator releases become requests to the administrator instead.',
  },
  allow: {
    label: 'Allow sender and release',
    button: 'Allow and release',
    explain: (admin) =>
      `Each sender goes on ${admin ? 'the global' : 'your'} allow list (their mail is no longer treated as spam) and the message is released; spam is also learned as not spam.`,
  },
  block: {
    label: 'Block sender and delete',
    button: 'Block and delete',
    explain: (admin) => `Each sender goes on ${admin ? 'the global' : 'your'} block list (their mail is discarded from now on) and the message is deleted.`,
  },
  delete: {
    label: 'Delete',
    button: 'Delete',
    explain: (admin) => (admin ? 'The messages are deleted for every recipient.' : 'Your copies are deleted; other recipients keep theirs.'),
  },
};

const countOf = (n: number) => `${n} message${n === 1 ? '' : 's'}`;

/** The form above the list; its checkboxes are in the table (form="bulk"), as forms do not nest. */
export const BulkForm = ({ state }: { state: ListState }) => (
  <form id="bulk" method="get" action="/viewer/messages/bulk" class="bulk">
    {state.user && <input type="hidden" name="user" value={state.user} />}
    <label class="field" for="bulk-action">
      With the selected
    </label>
    <select id="bulk-action" name="action">
      {Object.entries(CHOICES).map(([value, choice]) => (
        <option value={value}>{choice.label}</option>
      ))}
    </select>
    <button type="submit">Apply…</button>
    <a href={listUrl(state, { selectAll: !state.selectAll })}>{state.selectAll ? 'Select none' : 'Select all on this page'}</a>
  </form>
);

/** What will happen to one message, in a few words. */
function planFor(c: ViewerContext, action: BulkAction, entry: QuarantineEntry): string {
  const { user } = c.get('session');
  const sender = listSenderOf(entry);
  const release = maySelfRelease(c.get('deps'), user, entry) ? 'released' : 'a release request to the administrator';
  if (action === 'release') return release;
  if (action === 'allow')
    return entry.reason === 'SPAM' || sender ? `${sender ? `allow ${sender}; ` : 'no sender address to allow; '}${release}` : 'not possible: no sender address';
  if (action === 'block') return sender ? `block ${sender}; deleted` : 'not possible: no sender address';
  return 'deleted';
}

function MessageRows({ entries, note }: { entries: QuarantineEntry[]; note: (entry: QuarantineEntry) => string }) {
  return (
    <table class="selection">
      <thead>
        <tr>
          <th class="when">Received</th>
          <th class="from">From</th>
          <th class="subject">Subject</th>
          <th class="outcome">What happens</th>
        </tr>
      </thead>
      <tbody>
        {entries.map((entry) => {
          const subject = displayText(subjectShown(entry), SHOWN_CHARS);
          return (
            <tr>
              <ReceivedFromCells entry={entry} />
              <td class="subject" title={subject}>
                {subject}
              </td>
              <td class="outcome">{note(entry)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function ResultPage({ c, action, items }: { c: ViewerContext; action: BulkAction; items: BulkItem[] }) {
  const session = c.get('session');
  const done = items.filter((i) => i.entry && i.outcome !== 'failed');
  const failed = items.filter((i) => i.outcome === 'failed');
  const missing = items.filter((i) => !i.entry).length;
  const byId = new Map(items.map((i) => [i.id, i]));
  return (
    <Layout title="Done" user={session.user} csrfToken={session.csrfToken}>
      <div class="card confirm wide">
        <h1>
          {CHOICES[action].label}: {countOf(done.length)} done{failed.length ? `, ${failed.length} not` : ''}
        </h1>
        {missing > 0 && <p class="muted">{countOf(missing)} no longer in your quarantine.</p>}
        <MessageRows entries={items.flatMap((i) => (i.entry ? [i.entry] : []))} note={(entry) => byId.get(entry.id)?.text ?? ''} />
        <p>
          <a href={`/viewer/messages${userQuery(c)}`}>Back to the list</a>
        </p>
      </div>
    </Layout>
  );
}

export const bulkRoutes = new Hono<ViewerEnv>()
  .get('/messages/bulk', async (c) => {
    const session = c.get('session');
    const action = c.req.query('action');
    if (!isBulkAction(action)) throw new HttpError(400, 'Choose what to do with the selected messages.');
    const ids = c.req.queries('id') ?? [];
    const entries = await ownEntries(c.get('deps'), actorOf(c), ids);
    const missing = Math.min(new Set(ids).size, MAX_BULK_MESSAGES) - entries.length;
    const back = `/viewer/messages${userQuery(c)}`;
    return c.html(
      <Layout title={`${CHOICES[action].label}?`} user={session.user} csrfToken={session.csrfToken}>
        <div class="card confirm wide">
          {entries.length === 0 ? (
            <>
              <h1>No message selected</h1>
              <p>Tick the messages first, then choose what to do with them.</p>
            </>
          ) : (
            <>
              <h1>
                {CHOICES[action].label}: {countOf(entries.length)}?
              </h1>
              <p>{CHOICES[action].explain(session.user.isAdmin)}</p>
              {ids.length > MAX_BULK_MESSAGES && <p class="notice error">At most {MAX_BULK_MESSAGES} messages at once: only the first are here.</p>}
              {missing > 0 && (
                <p class="muted">
                  {countOf(missing)} of those selected {missing === 1 ? 'is' : 'are'} no longer in your quarantine.
                </p>
              )}
              <MessageRows entries={entries} note={(entry) => planFor(c, action, entry)} />
              <form method="post" action={`/viewer/messages/bulk${userQuery(c)}`}>
                <CsrfField token={session.csrfToken} />
                <input type="hidden" name="action" value={action} />
                {entries.map((entry) => (
                  <input type="hidden" name="id" value={entry.id} />
                ))}
                <p class="actions">
                  <button type="submit" class={action === 'delete' || action === 'block' ? 'danger' : undefined}>
                    {CHOICES[action].button} {countOf(entries.length)}
                  </button>{' '}
                  <a href={back}>Cancel</a>
                </p>
              </form>
            </>
          )}
          {entries.length === 0 && (
            <p>
              <a href={back}>Back to the list</a>
            </p>
          )}
        </div>
      </Layout>,
      entries.length === 0 ? 400 : 200,
    );
  })
  .post('/messages/bulk', async (c) => {
    const form = await formOf(c);
    if (!isBulkAction(form.action)) throw new HttpError(400, 'Choose what to do with the selected messages.');
    const ids = await formValues(c, 'id');
    if (ids.length === 0) throw new HttpError(400, 'No message selected.');
    const items = await applyToMessages(c.get('deps'), actorOf(c), form.action, ids);
    return c.html(<ResultPage c={c} action={form.action} items={items} />);
  })
  .get('/messages/delete-all', async (c) => {
    const session = c.get('session');
    if (session.user.isAdmin) throw new HttpError(403, 'The administrator clears the quarantine from the console.');
    const total = await c.get('deps').store.count({ addresses: session.user.addresses });
    return c.html(
      <Layout title="Delete all?" user={session.user} csrfToken={session.csrfToken}>
        <div class="card confirm">
          <h1>Delete all your quarantined messages?</h1>
          <p>
            {total === 0
              ? 'Your quarantine is empty.'
              : `${countOf(total)} for ${session.user.addresses.join(', ')} will be deleted. Other recipients keep their copies. This cannot be undone.`}
          </p>
          {total > 0 && (
            <form method="post" action="/viewer/messages/delete-all">
              <CsrfField token={session.csrfToken} />
              <p class="actions">
                <button type="submit" class="danger">
                  Delete all {countOf(total)}
                </button>{' '}
                <a href="/viewer/messages">Cancel</a>
              </p>
            </form>
          )}
          {total === 0 && (
            <p>
              <a href="/viewer/messages">Back to the list</a>
            </p>
          )}
        </div>
      </Layout>,
    );
  })
  .post('/messages/delete-all', async (c) => {
    if (c.get('session').user.isAdmin) throw new HttpError(403, 'The administrator clears the quarantine from the console.');
    await deleteAllOwn(c.get('deps'), actorOf(c));
    return c.redirect('/viewer/messages?done=deleted-all', 303);
  });
