// A user's quarantined messages: list, safe view, download, release, delete. Every request checks,
// on the server, that the message is addressed to one of the user's own addresses.
import { Hono } from 'hono';
import { stream } from 'hono/streaming';
import { CATEGORIES } from '../../config/schema.js';
import type { QuarantineEntry } from '../../quarantine/store.js';
import { displayText, subjectShown, envelopeSenderShown } from '../../quarantine/display.js';
import { MESSAGE_ACTIONS, recipientsFor } from '../../actions/quarantine-actions.js';
import { messageDownloaded, messageViewed } from '../../actions/access-log.js';
import type { LinkAction } from '../../actions/tokens.js';
import { CsrfField, Layout, Notice } from '../views/layout.js';
import { viewMessage } from '../message-view.js';
import { AUTH_METHODS, authservIdOf, readAuthResults } from '../../checks/auth-results.js';
import { actorOf, formOf, HttpError, type ViewerContext, type ViewerEnv } from '../context.js';
import { pageNumber } from '../paging.js';
import { canDownload, ownMessage, scope, userQuery } from '../message-access.js';
import { isFiltered, listUrl, PAGE_SIZES, parseListState, storeQueryOf, type ListState } from '../list-query.js';
import { formatSize, formatTime, scoreOf } from '../format.js';
import { ActionButtons } from '../views/message-actions.js';
import { MessageTable } from '../views/message-table.js';
import { ReasonBadge, ReleaseState, When } from '../views/message-bits.js';
import { BulkForm, BULK_DONE } from './bulk.js';

/** Back to the list after an action, with a line saying what was done. */
const backWith = (c: ViewerContext, done: string) => `/viewer/messages${userQuery(c) ? `${userQuery(c)}&` : '?'}done=${done}`;

const DONE: Record<string, string> = {
  released: 'Released: the message is on its way to you.',
  requested: 'Messages of this kind are released by the administrator: your request was sent, and you will get an e-mail when it is decided.',
  'not-spam': 'Released, and learned as not spam: mail from this sender will no longer be treated as spam.',
  blocked: 'Sender blocked: their mail will be discarded from now on. The message was deleted.',
  deleted: 'Deleted.',
  password: 'Password changed.',
  ...BULK_DONE,
};

/** Search, reason, date range and page size; the order is kept from the headings' links. */
function FilterForm({ state }: { state: ListState }) {
  const sorted = state.sort.by !== 'date' || !state.sort.descending;
  return (
    <form method="get" action="/viewer/messages" class="filters">
      {state.user && <input type="hidden" name="user" value={state.user} />}
      {sorted && <input type="hidden" name="sort" value={state.sort.by} />}
      {sorted && <input type="hidden" name="dir" value={state.sort.descending ? 'desc' : 'asc'} />}
      <input type="search" name="q" value={state.search} placeholder="Search subject, from, to" aria-label="Search" />
      <select name="reason" aria-label="Reason">
        <option value="">All reasons</option>
        {CATEGORIES.map((r) => (
          <option value={r} selected={r === state.reason}>
            {r}
          </option>
        ))}
      </select>
      <label class="field">
        From <input type="date" name="since" value={state.since} />
      </label>
      <label class="field">
        to <input type="date" name="until" value={state.until} />
      </label>
      <label class="field">
        Show{' '}
        <select name="size">
          {PAGE_SIZES.map((n) => (
            <option value={String(n)} selected={n === state.pageSize}>
              {n}
            </option>
          ))}
        </select>
      </label>
      <button type="submit">Filter</button>
      {isFiltered(state) && <a href={listUrl({ ...state, search: '', reason: undefined, since: '', until: '' })}>Clear filter</a>}
    </form>
  );
}

export const messageRoutes = new Hono<ViewerEnv>()
  .get('/', (c) => c.redirect(c.get('session').user.isAdmin ? '/viewer/admin' : '/viewer/messages', 303))
  .get('/messages', async (c) => {
    const session = c.get('session');
    const { store } = c.get('deps');
    const { addresses, owner } = scope(c);
    const state = parseListState((name) => c.req.query(name));
    const query = { addresses, ...storeQueryOf(state) };
    const total = await store.count(query);
    const page = pageNumber(c.req.query('page'), total, state.pageSize);
    const entries = await store.list({ ...query, limit: state.pageSize, offset: (page - 1) * state.pageSize });
    const requests = c.get('deps').requests.latestFor(
      session.user.isAdmin ? null : session.user.id,
      entries.map((e) => e.id),
    );
    const lastPage = Math.max(1, Math.ceil(total / state.pageSize));
    return c.html(
      <Layout title="Messages" user={session.user} csrfToken={session.csrfToken}>
        <h1>{owner ? `Quarantined messages of ${owner}` : session.user.isAdmin ? 'All quarantined messages' : 'Your quarantined messages'}</h1>
        <Notice kind="ok" text={DONE[c.req.query('done') ?? '']} />
        {!session.user.isAdmin && <p class="muted">For {session.user.addresses.join(', ') || 'no address yet (ask the administrator to add yours)'}.</p>}
        <FilterForm state={state} />
        {entries.length > 0 && <BulkForm state={state} />}
        {entries.length > 0 && (
          <MessageTable
            c={c}
            session={session}
            entries={entries}
            state={state}
            requests={requests}
            showTo={session.user.isAdmin || session.user.addresses.length > 1}
          />
        )}
        {entries.length === 0 && <p class="muted">No quarantined messages{isFiltered(state) ? ' match this filter' : ''}.</p>}
        <div class="pager">
          {page > 1 && <a href={listUrl(state, { page: page - 1 })}>← Previous</a>}
          <span class="muted">
            {total} message{total === 1 ? '' : 's'}
            {lastPage > 1 ? ` · page ${page} of ${lastPage}` : ''}
          </span>
          {page < lastPage && <a href={listUrl(state, { page: page + 1 })}>Next →</a>}
        </div>
        {!session.user.isAdmin && total > 0 && (
          <form method="get" action="/viewer/messages/delete-all">
            <button type="submit" class="danger">
              Delete All…
            </button>
          </form>
        )}
      </Layout>,
    );
  })
  .get('/messages/:id', async (c) => {
    const session = c.get('session');
    const { store } = c.get('deps');
    const entry = await ownMessage(c, c.req.param('id'));
    const file = await store.localFile(entry);
    const [view, auth] = await Promise.all([viewMessage(file.path, entry.size), readAuthResults(file.path, authservIdOf(c.get('deps').config))]).finally(() =>
      file.done(),
    );
    messageViewed(c.get('deps'), actorOf(c), entry);
    const own = recipientsFor(session.user, entry);
    const score = scoreOf(entry.detail);
    return c.html(
      <Layout title={displayText(entry.subject || 'Message', 200)} user={session.user} csrfToken={session.csrfToken}>
        <p>
          <a href={`/viewer/messages${userQuery(c)}`}>← Back to the list</a>
        </p>
        <div class="card">
          <p>
            <ReasonBadge reason={entry.reason} /> {displayText(entry.detail)}
            <ReleaseState entry={entry} own={own} />
          </p>
          <table class="headers">
            <tbody>
              {view.headers.map(([name, value]) => (
                <tr>
                  <th>{name}</th>
                  <td>{displayText(value)}</td>
                </tr>
              ))}
              <tr>
                <th>Envelope</th>
                <td>
                  from {displayText(envelopeSenderShown(entry.mailFrom))} to {own.join(', ')}
                </td>
              </tr>
              <tr>
                <th>Received</th>
                <td>
                  <When ms={entry.receivedAt} />
                </td>
              </tr>
              <tr>
                <th>Size</th>
                <td>{formatSize(entry.size)}</td>
              </tr>
              {auth &&
                AUTH_METHODS.map((method) => (
                  <tr>
                    <th>{method.toUpperCase()}</th>
                    <td>{displayText(auth[method].join('; ') || 'none')}</td>
                  </tr>
                ))}
              {score !== undefined && (
                <tr>
                  <th>Spam score</th>
                  <td>
                    {score.toFixed(1)} <span class="muted">({displayText(entry.detail)})</span>
                  </td>
                </tr>
              )}
              {view.attachments.length > 0 && (
                <tr>
                  <th>Attachments</th>
                  <td>{displayText(view.attachments.map((a) => `${a.filename} (${a.contentType}, ${a.size} bytes)`).join('; '))}</td>
                </tr>
              )}
            </tbody>
          </table>
          <ActionButtons c={c} entry={entry} session={session} />
        </div>
        <pre class="body">{view.text || '(no text in this message)'}</pre>
        {view.truncated && <p class="muted">Only the beginning of this large message is shown.</p>}
      </Layout>,
    );
  })
  .get('/messages/:id/download', async (c) => {
    const entry = await downloadable(c);
    if (entry.reason !== 'VIRUS') return sendOriginal(c, entry);
    const session = c.get('session');
    // A virus is sent only after a second, deliberate step: a POST from this page.
    return c.html(
      <Layout title="Download a virus?" user={session.user} csrfToken={session.csrfToken}>
        <div class="card confirm">
          <h1>Download a message that holds a virus?</h1>
          <p>
            {displayText(subjectShown(entry))}: {displayText(entry.detail)}
          </p>
          <p>The file is the original message, virus included. Open it only on a machine prepared for that.</p>
          <form method="post" action={`/viewer/messages/${entry.id}/download${userQuery(c)}`}>
            <CsrfField token={session.csrfToken} />
            <button type="submit" class="danger">
              Download it anyway
            </button>
          </form>
          <p>
            <a href={`/viewer/messages/${entry.id}${userQuery(c)}`}>Back to the message</a>
          </p>
        </div>
      </Layout>,
    );
  })
  .post('/messages/:id/download', async (c) => sendOriginal(c, await downloadable(c)))
  .post('/messages/:id/:action{release|not-spam|block-sender|delete}', async (c) => {
    const entry = await ownMessage(c, c.req.param('id'));
    const form = await formOf(c);
    const result = await MESSAGE_ACTIONS[c.req.param('action') as LinkAction](c.get('deps'), actorOf(c), entry, { again: form.again === '1' });
    if (result.outcome === 'already-released') return releaseAgainPage(c, entry, c.req.param('action'));
    return c.redirect(backWith(c, result.outcome), 303);
  });

/** The message, when this session may download it; refused in the same words for every reason. */
async function downloadable(c: ViewerContext): Promise<QuarantineEntry> {
  const entry = await ownMessage(c, c.req.param('id')!);
  if (!canDownload(c, c.get('session').user, entry))
    throw new HttpError(
      403,
      `Messages quarantined as ${entry.reason} cannot be downloaded by you: only what you may release yourself (ALLOWED_DOWNLOAD_TYPES).`,
    );
  return entry;
}

function sendOriginal(c: ViewerContext, entry: QuarantineEntry) {
  const { store } = c.get('deps');
  messageDownloaded(c.get('deps'), actorOf(c), entry);
  c.header('Content-Type', 'message/rfc822');
  c.header('Content-Disposition', `attachment; filename="${entry.id}.eml"`);
  c.header('Content-Length', String(entry.size));
  return stream(c, async (out) => {
    for await (const chunk of store.openMessage(entry)) await out.write(chunk as Uint8Array);
  });
}

/** A release of something already released: say when, and send another copy only on a second click. */
function releaseAgainPage(c: ViewerContext, entry: QuarantineEntry, action: string) {
  const session = c.get('session');
  const own = recipientsFor(session.user, entry);
  const released = entry.releases.filter((r) => own.includes(r.address));
  return c.html(
    <Layout title="Already released" user={session.user} csrfToken={session.csrfToken}>
      <div class="card confirm">
        <h1>Already released</h1>
        <p>
          {displayText(subjectShown(entry))} was released {released.map((r) => `to ${r.address} on ${formatTime(r.at)} by ${r.by}`).join('; ')}.
        </p>
        <p>Look in the mailbox first. Send another copy?</p>
        <form method="post" action={`/viewer/messages/${entry.id}/${action}${userQuery(c)}`}>
          <CsrfField token={session.csrfToken} />
          <input type="hidden" name="again" value="1" />
          <button type="submit">Send another copy</button>
        </form>
        <p>
          <a href={`/viewer/messages${userQuery(c)}`}>Back to the list</a>
        </p>
      </div>
    </Layout>,
  );
}
