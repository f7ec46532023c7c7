// A user's quarantined messages: list, safe view, download, release, delete. Every request checks,
// on the server, that the message is addressed to one of the user's own addresses.
import { Hono } from 'hono';
import { stream } from 'hono/streaming';
import { CATEGORIES, type Category } from '../../config/schema.js';
import type { QuarantineEntry } from '../../quarantine/store.js';
import { displayText } from '../../quarantine/display.js';
import { listSenderOf, MESSAGE_ACTIONS, maySelfRelease, recipientsFor } from '../../actions/quarantine-actions.js';
import type { LinkAction } from '../../actions/tokens.js';
import type { ReleaseRequest } from '../../actions/release-requests.js';
import { CsrfField, Layout, Notice, PostButton } from '../views/layout.js';
import { viewMessage } from '../message-view.js';
import { actorOf, formOf, HttpError, type ViewerContext, type ViewerEnv } from '../context.js';
import type { Session, ViewerUser } from '../accounts.js';
import { pageNumber } from '../paging.js';

const PAGE_SIZE = 50;

/** The addresses whose messages this request may show: a user's own, or, for the admin, everyone's or one user's. */
function scope(c: ViewerContext): { addresses: string[] | undefined; owner?: string } {
  const { user } = c.get('session');
  if (!user.isAdmin) return { addresses: user.addresses };
  const asUser = Number(c.req.query('user'));
  if (!asUser) return { addresses: undefined };
  const target = c.get('deps').accounts.get(asUser);
  if (!target) throw new HttpError(404, 'No such user.');
  return { addresses: target.addresses, owner: target.username };
}

/** The message, if it is addressed to someone this session acts for. */
function ownMessage(c: ViewerContext, id: string): QuarantineEntry {
  const entry = c.get('deps').store.get(id);
  // The same answer for "no such message" and "not yours": ids are not to be probed.
  if (!entry || recipientsFor(c.get('session').user, entry).length === 0) throw new HttpError(404, 'No such message in your quarantine.');
  return entry;
}

const when = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 16);
/** The administrator looking at one user's messages keeps that view from page to page. */
const userQuery = (c: ViewerContext) => (c.req.query('user') ? `?user=${encodeURIComponent(c.req.query('user')!)}` : '');
/** Back to the list after an action, with a line saying what was done. */
const backWith = (c: ViewerContext, done: string) => `/viewer/messages${userQuery(c) ? `${userQuery(c)}&` : '?'}done=${done}`;

const ReasonBadge = ({ reason }: { reason: Category }) => <span class={`reason ${reason}`}>{reason}</span>;

const DONE: Record<string, string> = {
  released: 'Released: the message is on its way to you.',
  requested: 'Messages of this kind are released by the administrator: your request was sent, and you will get an e-mail when it is decided.',
  'not-spam': 'Released, and learned as not spam: mail from this sender will no longer be treated as spam.',
  blocked: 'Sender blocked: their mail will be discarded from now on. The message was deleted.',
  deleted: 'Deleted.',
  'deleted-all': 'All your quarantined messages were deleted.',
  password: 'Password changed.',
};

/**
 * The original may be downloaded by whoever may release it: a user only what they release
 * themselves (and the administrator allows to download), the administrator anything, a virus
 * after saying so once more.
 */
function canDownload(c: ViewerContext, user: ViewerUser, entry: QuarantineEntry): boolean {
  if (user.isAdmin) return true;
  return c.get('deps').config.viewer.allowedDownloadTypes.includes(entry.reason) && maySelfRelease(c.get('deps'), user, entry);
}

/** The state of this user's copies: released, in part, or not yet. */
function ReleaseState({ entry, own }: { entry: QuarantineEntry; own: string[] }) {
  const released = entry.releases.filter((r) => own.includes(r.address));
  if (released.length === 0) return null;
  const text = released.length === own.length && own.length === 1 ? 'released' : `released to ${released.map((r) => r.address).join(', ')}`;
  return <span class="muted"> · {text}</span>;
}

function ActionButtons({ c, entry, session }: { c: ViewerContext; entry: QuarantineEntry; session: Session }) {
  const user = userQuery(c);
  const selfRelease = maySelfRelease(c.get('deps'), session.user, entry);
  // Entries made from a message name one exact address, and the button says which.
  const sender = listSenderOf(entry);
  return (
    <span class="actions">
      {canDownload(c, session.user, entry) && <a href={`/viewer/messages/${entry.id}/download${user}`}>Download</a>}
      <PostButton action={`/viewer/messages/${entry.id}/release${user}`} token={session.csrfToken} title={selfRelease ? 'Release to normal delivery' : 'Ask the administrator to release it'} inline>{selfRelease ? 'Release ➜' : 'Ask to release'}</PostButton>
      {entry.reason === 'SPAM' && <PostButton action={`/viewer/messages/${entry.id}/not-spam${user}`} token={session.csrfToken} title={`Release, learn as not spam${sender ? `, and allow ${sender}` : ''}`} inline>Not spam</PostButton>}
      {sender && <PostButton action={`/viewer/messages/${entry.id}/block-sender${user}`} token={session.csrfToken} title={`Discard mail from ${sender} from now on, and delete this message`} inline>Block {sender}</PostButton>}
      <PostButton action={`/viewer/messages/${entry.id}/delete${user}`} token={session.csrfToken} kind="danger" inline>Delete</PostButton>
    </span>
  );
}

function RequestStatus({ request }: { request: ReleaseRequest | undefined }) {
  if (!request) return null;
  const text = request.status === 'pending' ? 'release requested' : request.status === 'approved' ? `release approved by ${request.decidedBy}` : `release denied by ${request.decidedBy}`;
  return <span class={`muted request-${request.status}`}> · {text}</span>;
}

export const messageRoutes = new Hono<ViewerEnv>()
  .get('/', (c) => c.redirect(c.get('session').user.isAdmin ? '/viewer/admin' : '/viewer/messages', 303))
  .get('/messages', (c) => {
    const session = c.get('session');
    const { store } = c.get('deps');
    const { addresses, owner } = scope(c);
    const search = (c.req.query('q') ?? '').slice(0, 200);
    const reasonParam = c.req.query('reason') ?? '';
    const reason = (CATEGORIES as readonly string[]).includes(reasonParam) ? (reasonParam as Category) : undefined;
    const query = { addresses, search: search || undefined, reason };
    const total = store.count(query);
    const page = pageNumber(c.req.query('page'), total, PAGE_SIZE);
    const entries = store.list({ ...query, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE });
    const requests = c.get('deps').requests.latestFor(session.user.isAdmin ? null : session.user.id, entries.map((e) => e.id));
    const pageLink = (p: number) => `/viewer/messages?${new URLSearchParams({ ...(c.req.query('user') ? { user: c.req.query('user')! } : {}), ...(search ? { q: search } : {}), ...(reason ? { reason } : {}), page: String(p) })}`;
    return c.html(
      <Layout title="Messages" user={session.user} csrfToken={session.csrfToken}>
        <h1>{owner ? `Quarantined messages of ${owner}` : session.user.isAdmin ? 'All quarantined messages' : 'Your quarantined messages'}</h1>
        <Notice kind="ok" text={DONE[c.req.query('done') ?? '']} />
        {!session.user.isAdmin && <p class="muted">For {session.user.addresses.join(', ') || 'no address yet (ask the administrator to add yours)'}.</p>}
        <form method="get" action="/viewer/messages" class="filters">
          {c.req.query('user') && <input type="hidden" name="user" value={c.req.query('user')} />}
          <input type="search" name="q" value={search} placeholder="Search subject, from, to" aria-label="Search" />
          <select name="reason" aria-label="Reason">
            <option value="">All reasons</option>
            {CATEGORIES.map((r) => <option value={r} selected={r === reason}>{r}</option>)}
          </select>
          <button type="submit">Filter</button>
        </form>
        <table>
          <thead><tr><th>Date</th><th>From</th><th>To</th><th>Subject</th><th>Reason</th><th></th></tr></thead>
          <tbody>
            {entries.map((entry) => {
              // Only the user's own addresses: the others may be Bcc recipients.
              const own = recipientsFor(session.user, entry);
              return (
                <tr>
                  <td>{when(entry.receivedAt)}</td>
                  <td>{displayText(entry.headerFrom || entry.mailFrom || '<>')}</td>
                  <td>{own.join(', ')}</td>
                  <td><a href={`/viewer/messages/${entry.id}${userQuery(c)}`}>{displayText(entry.subject || '(no subject)')}</a></td>
                  <td><ReasonBadge reason={entry.reason} /> <span class="muted">{displayText(entry.detail)}</span><ReleaseState entry={entry} own={own} /><RequestStatus request={requests.get(entry.id)} /></td>
                  <td><ActionButtons c={c} entry={entry} session={session} /></td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {entries.length === 0 && <p class="muted">No quarantined messages{search || reason ? ' match this filter' : ''}.</p>}
        <div class="pager">
          {page > 1 && <a href={pageLink(page - 1)}>← Newer</a>}
          <span class="muted">{total} message{total === 1 ? '' : 's'}</span>
          {page * PAGE_SIZE < total && <a href={pageLink(page + 1)}>Older →</a>}
        </div>
        {!session.user.isAdmin && total > 0 && (
          <PostButton action="/viewer/messages/delete-all" token={session.csrfToken} kind="danger">Delete All</PostButton>
        )}
      </Layout>,
    );
  })
  .post('/messages/delete-all', async (c) => {
    const { user } = c.get('session');
    const { store } = c.get('deps');
    let count = 0;
    for (const entry of store.list({ addresses: user.addresses, limit: 1_000_000 })) {
      await store.removeRecipients(entry.id, recipientsFor(user, entry));
      count += 1;
    }
    c.get('deps').audit.record({ actor: user.username, action: 'delete-all', detail: `${count} message(s) for ${user.addresses.join(', ')}`, client: actorOf(c).client });
    return c.redirect('/viewer/messages?done=deleted-all', 303);
  })
  .get('/messages/:id', async (c) => {
    const session = c.get('session');
    const { store, audit } = c.get('deps');
    const entry = ownMessage(c, c.req.param('id'));
    const view = await viewMessage(store.filePath(entry), entry.size);
    audit.record({ actor: session.user.username, action: 'view', messageId: entry.id, client: actorOf(c).client });
    const own = recipientsFor(session.user, entry);
    return c.html(
      <Layout title={displayText(entry.subject || 'Message', 200)} user={session.user} csrfToken={session.csrfToken}>
        <p><a href={`/viewer/messages${userQuery(c)}`}>← Back to the list</a></p>
        <div class="card">
          <p><ReasonBadge reason={entry.reason} /> {displayText(entry.detail)}<ReleaseState entry={entry} own={own} /></p>
          <table>
            <tbody>
              {view.headers.map(([name, value]) => <tr><th>{name}</th><td>{displayText(value)}</td></tr>)}
              <tr><th>Envelope</th><td>from {displayText(entry.mailFrom || '<>')} to {own.join(', ')}</td></tr>
              {view.attachments.length > 0 && <tr><th>Attachments</th><td>{displayText(view.attachments.map((a) => `${a.filename} (${a.contentType}, ${a.size} bytes)`).join('; '))}</td></tr>}
            </tbody>
          </table>
          <ActionButtons c={c} entry={entry} session={session} />
        </div>
        <pre class="body">{view.text || '(no text in this message)'}</pre>
        {view.truncated && <p class="muted">Only the beginning of this large message is shown.</p>}
      </Layout>,
    );
  })
  .get('/messages/:id/download', (c) => {
    const entry = downloadable(c);
    if (entry.reason !== 'VIRUS') return sendOriginal(c, entry);
    const session = c.get('session');
    // A virus is sent only after a second, deliberate step: a POST from this page.
    return c.html(
      <Layout title="Download a virus?" user={session.user} csrfToken={session.csrfToken}>
        <div class="card confirm">
          <h1>Download a message that holds a virus?</h1>
          <p>{displayText(entry.subject || '(no subject)')}: {displayText(entry.detail)}</p>
          <p>The file is the original message, virus included. Open it only on a machine prepared for that.</p>
          <form method="post" action={`/viewer/messages/${entry.id}/download${userQuery(c)}`}>
            <CsrfField token={session.csrfToken} />
            <button type="submit" class="danger">Download it anyway</button>
          </form>
          <p><a href={`/viewer/messages/${entry.id}${userQuery(c)}`}>Back to the message</a></p>
        </div>
      </Layout>,
    );
  })
  .post('/messages/:id/download', (c) => sendOriginal(c, downloadable(c)))
  .post('/messages/:id/:action{release|not-spam|block-sender|delete}', async (c) => {
    const entry = ownMessage(c, c.req.param('id'));
    const form = await formOf(c);
    const result = await MESSAGE_ACTIONS[c.req.param('action') as LinkAction](c.get('deps'), actorOf(c), entry, { again: form.again === '1' });
    if (result.outcome === 'already-released') return releaseAgainPage(c, entry, c.req.param('action'));
    return c.redirect(backWith(c, result.outcome), 303);
  });

/** The message, when this session may download it; refused in the same words for every reason. */
function downloadable(c: ViewerContext): QuarantineEntry {
  const entry = ownMessage(c, c.req.param('id')!);
  if (!canDownload(c, c.get('session').user, entry)) throw new HttpError(403, `Messages quarantined as ${entry.reason} cannot be downloaded by you: only what you may release yourself (ALLOWED_DOWNLOAD_TYPES).`);
  return entry;
}

function sendOriginal(c: ViewerContext, entry: QuarantineEntry) {
  const { store, audit } = c.get('deps');
  audit.record({ actor: c.get('session').user.username, action: 'download', messageId: entry.id, detail: entry.reason === 'VIRUS' ? `${entry.detail}; virus download confirmed` : '', client: actorOf(c).client });
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
        <p>{displayText(entry.subject || '(no subject)')} was released {released.map((r) => `to ${r.address} on ${when(r.at)} UTC by ${r.by}`).join('; ')}.</p>
        <p>Look in the mailbox first. Send another copy?</p>
        <form method="post" action={`/viewer/messages/${entry.id}/${action}${userQuery(c)}`}>
          <CsrfField token={session.csrfToken} />
          <input type="hidden" name="again" value="1" />
          <button type="submit">Send another copy</button>
        </form>
        <p><a href={`/viewer/messages${userQuery(c)}`}>Back to the list</a></p>
      </div>
    </Layout>,
  );
}
