// The message pages: the list of a user's quarantined messages, one message's safe view, the
// confirmation before a virus is downloaded, and the one before a second copy is released.
import type { Session } from '../../accounts/viewer-accounts.js';
import { CATEGORIES } from '../../config/schema.js';
import type { QuarantineEntry } from '../../quarantine/store.js';
import { displayText, subjectShown, envelopeSenderShown } from '../../quarantine/display.js';
import { AUTH_METHODS, type AuthRows } from '../../checks/auth-results.js';
import type { ReleaseRequest } from '../../actions/release-requests.js';
import type { MessageView } from '../message-view.js';
import { userQuery } from '../message-access.js';
import { isFiltered, listUrl, PAGE_SIZES, type ListState } from '../list-query.js';
import { formatSize, formatTime, scoreOf } from '../format.js';
import { CsrfField, Layout, Notice } from './layout.js';
import { ActionButtons, type ActionProps } from './message-actions.js';
import { MessageTable } from './message-table.js';
import { ReasonBadge, ReleaseState, When } from './message-bits.js';
import { BulkForm, BULK_DONE } from './bulk-pages.js';

/** The notices of the list, by the key in ?done= (never text from the address bar). */
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

export function MessagesPage({
  c,
  session,
  selfRelease,
  owner,
  done,
  state,
  entries,
  requests,
  page,
  total,
}: ActionProps & {
  /** The user whose messages the administrator looks at, when not all. */
  owner: string | undefined;
  done?: string;
  state: ListState;
  entries: QuarantineEntry[];
  requests: Map<string, ReleaseRequest>;
  page: number;
  total: number;
}) {
  const lastPage = Math.max(1, Math.ceil(total / state.pageSize));
  return (
    <Layout title="Messages" user={session.user} csrfToken={session.csrfToken}>
      <h1>{owner ? `Quarantined messages of ${owner}` : session.user.isAdmin ? 'All quarantined messages' : 'Your quarantined messages'}</h1>
      <Notice kind="ok" text={DONE[done ?? '']} />
      {!session.user.isAdmin && <p class="muted">For {session.user.addresses.join(', ') || 'no address yet (ask the administrator to add yours)'}.</p>}
      <FilterForm state={state} />
      {entries.length > 0 && <BulkForm state={state} />}
      {entries.length > 0 && (
        <MessageTable
          c={c}
          session={session}
          selfRelease={selfRelease}
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
    </Layout>
  );
}

export function MessagePage({
  c,
  session,
  selfRelease,
  entry,
  view,
  auth,
  own,
}: ActionProps & {
  entry: QuarantineEntry;
  view: MessageView;
  auth: AuthRows | null;
  /** The recipients of this message that are this user's. */
  own: string[];
}) {
  const score = scoreOf(entry.detail);
  return (
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
        <ActionButtons c={c} entry={entry} session={session} selfRelease={selfRelease} />
      </div>
      <pre class="body">{view.text || '(no text in this message)'}</pre>
      {view.truncated && <p class="muted">Only the beginning of this large message is shown.</p>}
    </Layout>
  );
}

export function VirusDownloadPage({ session, entry, userQuery: back }: { session: Session; entry: QuarantineEntry; userQuery: string }) {
  return (
    <Layout title="Download a virus?" user={session.user} csrfToken={session.csrfToken}>
      <div class="card confirm">
        <h1>Download a message that holds a virus?</h1>
        <p>
          {displayText(subjectShown(entry))}: {displayText(entry.detail)}
        </p>
        <p>The file is the original message, virus included. Open it only on a machine prepared for that.</p>
        <form method="post" action={`/viewer/messages/${entry.id}/download${back}`}>
          <CsrfField token={session.csrfToken} />
          <button type="submit" class="danger">
            Download it anyway
          </button>
        </form>
        <p>
          <a href={`/viewer/messages/${entry.id}${back}`}>Back to the message</a>
        </p>
      </div>
    </Layout>
  );
}

export function ReleaseAgainPage({
  session,
  entry,
  action,
  released,
  userQuery: back,
}: {
  session: Session;
  entry: QuarantineEntry;
  action: string;
  released: QuarantineEntry['releases'];
  userQuery: string;
}) {
  return (
    <Layout title="Already released" user={session.user} csrfToken={session.csrfToken}>
      <div class="card confirm">
        <h1>Already released</h1>
        <p>
          {displayText(subjectShown(entry))} was released {released.map((r) => `to ${r.address} on ${formatTime(r.at)} by ${r.by}`).join('; ')}.
        </p>
        <p>Look in the mailbox first. Send another copy?</p>
        <form method="post" action={`/viewer/messages/${entry.id}/${action}${back}`}>
          <CsrfField token={session.csrfToken} />
          <input type="hidden" name="again" value="1" />
          <button type="submit">Send another copy</button>
        </form>
        <p>
          <a href={`/viewer/messages${back}`}>Back to the list</a>
        </p>
      </div>
    </Layout>
  );
}
