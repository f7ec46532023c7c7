// The administration console (vadmin): statistics, clearing the quarantine, viewer users, and the
// DKIM record to publish.
import { Hono } from 'hono';
import type { MiddlewareHandler } from 'hono';
import { Layout, CsrfField, Notice, PostButton, Table } from '../views/layout.js';
import { DoorChart, StatsChart, SizeBar } from '../views/stats-chart.js';
import { AddressTakenError, type ViewerUser } from '../../accounts/viewer-accounts.js';
import { actorOf, formOf, HttpError, type ViewerContext, type ViewerEnv } from '../context.js';
import { decideRequest } from '../../actions/quarantine-actions.js';
import { clearQuarantine } from '../../actions/bulk-actions.js';
import { createUser, deleteUser, editUser, type UserChanges } from '../../actions/account-actions.js';
import { saveAdminSettings } from '../../actions/settings-actions.js';
import { displayText, subjectShown, senderShown } from '../../quarantine/display.js';
import { pageNumber } from '../paging.js';
import { DIGEST_FREQUENCIES, isFrequency } from '../../actions/settings.js';
import { CATEGORIES, type Category } from '../../config/schema.js';
import { utcClock, utcDay } from '../../time/utc.js';
import { isEmailAddress } from '../../mail/address.js';
import { isLongEnough, PASSWORD_RULE } from '../../accounts/password-rule.js';
import { listSetAside, type SetAsideMessage } from '../../fetch/set-aside.js';
import { dkimPublication, dkimTypeName, zoneLine } from '../../checks/auth-dkim-record.js';

const adminOnly: MiddlewareHandler<ViewerEnv> = async (c, next) => {
  if (!c.get('session').user.isAdmin) throw new HttpError(403, 'Only the administrator may do this.');
  return next();
};

const USERNAME = /^[A-Za-z0-9._@+-]{1,64}$/;

function parseAddresses(text: string): { addresses: string[]; bad: string[] } {
  const lines = text
    .split(/[\r\n,]+/)
    .map((l) => l.trim())
    .filter(Boolean);
  return { addresses: lines.filter((l) => isEmailAddress(l)), bad: lines.filter((l) => !isEmailAddress(l)) };
}

const DONE: Record<string, string> = {
  password: 'Password changed.',
  cleared: 'The quarantine was cleared.',
  saved: 'User saved.',
  deleted: 'User deleted.',
  settings: 'Settings saved.',
};

/** The notices of the requests page, by the key in ?done= (never text from the address bar). */
const REQUEST_DONE: Record<string, string> = {
  approved: 'Approved: the message was released to the requester’s addresses, and they were told.',
  denied: 'Denied: the message stays in the quarantine, and the requester was told.',
};

const AUDIT_PAGE = 100;

/** Fetch mode only: the messages the fetcher gave up on, which stay on their mail server untouched. */
function SetAsideCard({ c }: { c: ViewerContext }) {
  const { config } = c.get('deps');
  if (config.mail.mode !== 'fetchmail') return null;
  let setAside: SetAsideMessage[];
  try {
    setAside = listSetAside(config.fetch.stateDir);
  } catch (err) {
    return (
      <div class="card">
        <h2>Fetch mode</h2>
        <p>The fetcher's state could not be read ({(err as Error).message}).</p>
      </div>
    );
  }
  return (
    <div class="card">
      <h2>Fetch mode</h2>
      {setAside.length === 0 ? (
        <p>No fetched message was set aside.</p>
      ) : (
        <>
          <p class="notice error">
            {setAside.length} message{setAside.length === 1 ? ' was' : 's were'} set aside after failing several polls in a row. They stay on their mail server
            and are not tried again; `mailfilter status` lists them too.
          </p>
          <ul>
            {setAside.slice(0, 10).map((m) => (
              <li>
                {m.account} message {m.uid}: {m.lastError}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

/** The DKIM key outgoing mail is signed with, and the TXT record the organisation must publish for it. */
function DkimCard({ c }: { c: ViewerContext }) {
  const publication = dkimPublication(c.get('deps').config);
  return (
    <div class="card" id="dkim">
      <h2>DKIM signing of outgoing mail</h2>
      {publication.state === 'off' && <p>Off: outgoing mail is not signed. `mailfilter configure` turns it on and makes the key.</p>}
      {publication.state === 'missing' && (
        <p class="notice error">
          No key yet at {publication.keyFile}: `mailfilter configure` makes it, and the filter does not start until there is one. Its record will be published
          at {publication.name}.
        </p>
      )}
      {publication.state === 'unreadable' && (
        <p class="notice error">
          {publication.keyFile} cannot be read ({publication.reason}).
        </p>
      )}
      {publication.state === 'ready' && (
        <>
          <p>
            Mail from the allowed networks whose From: is your domain is signed with the {dkimTypeName(publication.record.type)} key {publication.keyFile}.
            Publish this TXT record in your domain’s DNS: receivers check the signatures with it.
          </p>
          <table>
            <tr>
              <th>Name</th>
              <td>
                <code>{publication.record.name}</code>
              </td>
            </tr>
            <tr>
              <th>Type</th>
              <td>TXT</td>
            </tr>
            <tr>
              <th>Value</th>
              <td>
                <code>{publication.record.value}</code>
              </td>
            </tr>
            <tr>
              <th>Zone file</th>
              <td>
                <code>{zoneLine(publication.record)}</code>
              </td>
            </tr>
          </table>
        </>
      )}
    </div>
  );
}

function SettingsCard({ c }: { c: ViewerContext }) {
  const session = c.get('session');
  const current = c.get('deps').settings.admin();
  return (
    <form method="post" action="/viewer/admin/settings" class="card" id="settings">
      <CsrfField token={session.csrfToken} />
      <h2>Digest</h2>
      <label for="digestFrequency">Quarantine digest for every user (each may change theirs under Digest)</label>
      <select id="digestFrequency" name="digestFrequency">
        {DIGEST_FREQUENCIES.map((f) => (
          <option value={f} selected={current.digestFrequency === f}>
            {f}
          </option>
        ))}
      </select>
      <h2>Releases</h2>
      <label>Users release these themselves; others need your approval</label>
      <p class="actions">
        {CATEGORIES.map((category) => (
          <label class="check">
            <input type="checkbox" name={`self_${category}`} value="1" checked={current.selfRelease.includes(category)} /> {category}
          </label>
        ))}
      </p>
      <p>
        <button type="submit">Save settings</button>
      </p>
    </form>
  );
}

function UserForm({ c, user, error, values }: { c: ViewerContext; user?: ViewerUser; error?: string; values?: { username?: string; addresses?: string } }) {
  const session = c.get('session');
  const ldap = c.get('deps').config.viewer.loginMethod === 'ldap';
  const local = !user || user.source === 'local';
  const frequency = user ? c.get('deps').settings.userFrequency(user.id) : null;
  return (
    <Layout title={user ? `Edit ${user.username}` : 'Add user'} user={session.user} csrfToken={session.csrfToken}>
      <h1>{user ? `Edit user ${user.username}` : 'Add user'}</h1>
      <Notice kind="error" text={error} />
      <form method="post" action={user ? `/viewer/admin/users/${user.id}` : '/viewer/admin/users/new'} class="card">
        <CsrfField token={session.csrfToken} />
        {!user && (
          <>
            <label for="username">User name</label>
            <input id="username" name="username" type="text" value={values?.username ?? ''} required />
          </>
        )}
        {local && !(ldap && user?.source === 'ldap') && !user?.isAdmin && (
          <>
            <label for="password">{user ? 'New password (leave empty to keep)' : 'Password'}</label>
            <input id="password" name="password" type="password" autocomplete="new-password" required={!user} />
          </>
        )}
        {!user?.isAdmin && (
          <>
            <label for="addresses">E-mail addresses, one per line</label>
            <textarea id="addresses" name="addresses">
              {values?.addresses ?? user?.addresses.join('\n') ?? ''}
            </textarea>
          </>
        )}
        {user && !user.isAdmin && (
          <>
            <label for="frequency">Quarantine digest</label>
            <select id="frequency" name="frequency">
              <option value="default" selected={frequency === null}>
                As set for everyone
              </option>
              {DIGEST_FREQUENCIES.map((f) => (
                <option value={f} selected={frequency === f}>
                  {f}
                </option>
              ))}
            </select>
          </>
        )}
        <p>
          <button type="submit">Save</button>
        </p>
      </form>
    </Layout>
  );
}

export const adminRoutes = new Hono<ViewerEnv>()
  .use('/admin/*', adminOnly)
  .use('/admin', adminOnly)
  .get('/admin', async (c) => {
    const session = c.get('session');
    const { store } = c.get('deps');
    const since = utcDay(Date.now() - 13 * 86400_000);
    const [outcomes, door, used, held] = await Promise.all([store.dailyOutcomes(since), store.dailyDoor(since), store.totalBytes(), store.count()]);
    const pending = c.get('deps').requests.pending().length;
    return c.html(
      <Layout title="Administration" user={session.user} csrfToken={session.csrfToken}>
        <h1>Administration console</h1>
        <Notice kind="ok" text={DONE[c.req.query('done') ?? '']} />
        <div class="card">
          <h2>Mail in the last 14 days</h2>
          <StatsChart rows={outcomes} since={since} days={14} />
        </div>
        <div class="card">
          <h2>Refused at the door in the last 14 days</h2>
          <DoorChart rows={door} since={since} days={14} />
        </div>
        <div class="card">
          <h2>Quarantine</h2>
          <SizeBar used={used} limit={store.limitBytes} count={held} />
          <p class="actions">
            <a href="/viewer/messages">See all messages</a>
            <a href="/viewer/admin/users">Users</a>
            <a href="/viewer/account/password">Change vadmin’s password</a>
          </p>
          <form method="get" action="/viewer/admin/clear">
            <button type="submit" class="danger">
              Clear the whole quarantine…
            </button>
          </form>
        </div>
        <div class="card">
          <h2>Release requests</h2>
          <p>
            {pending === 0 ? (
              'No request waits for you.'
            ) : (
              <a href="/viewer/admin/requests">
                {pending} request{pending === 1 ? '' : 's'} to decide
              </a>
            )}
          </p>
          <p class="actions">
            <a href="/viewer/admin/audit">Audit log</a> <a href="/viewer/lists">Global allow and block lists</a>
          </p>
        </div>
        <SetAsideCard c={c} />
        <DkimCard c={c} />
        <SettingsCard c={c} />
      </Layout>,
    );
  })
  .get('/admin/clear', async (c) => {
    const session = c.get('session');
    const { store } = c.get('deps');
    const [count, bytes] = await Promise.all([store.count(), store.totalBytes()]);
    return c.html(
      <Layout title="Clear the quarantine?" user={session.user} csrfToken={session.csrfToken}>
        <div class="card confirm">
          <h1>Clear the whole quarantine?</h1>
          <p>
            {count === 0
              ? 'The quarantine is empty.'
              : `All ${count} message${count === 1 ? '' : 's'} (${(bytes / 1024 / 1024).toFixed(1)} MB), of every user, will be deleted, and pending release requests can no longer be approved. This cannot be undone.`}
          </p>
          {count > 0 && (
            <form method="post" action="/viewer/admin/clear">
              <CsrfField token={session.csrfToken} />
              <p class="actions">
                <button type="submit" class="danger">
                  Delete all {count} message{count === 1 ? '' : 's'}
                </button>{' '}
                <a href="/viewer/admin">Cancel</a>
              </p>
            </form>
          )}
          {count === 0 && (
            <p>
              <a href="/viewer/admin">Back to the console</a>
            </p>
          )}
        </div>
      </Layout>,
    );
  })
  .post('/admin/clear', async (c) => {
    await clearQuarantine(c.get('deps'), actorOf(c));
    return c.redirect('/viewer/admin?done=cleared', 303);
  })
  .post('/admin/settings', async (c) => {
    const form = await formOf(c);
    if (!isFrequency(form.digestFrequency)) throw new HttpError(400, 'Choose off, daily or weekly.');
    const selfRelease = CATEGORIES.filter((category: Category) => form[`self_${category}`] === '1');
    saveAdminSettings(c.get('deps'), actorOf(c), { digestFrequency: form.digestFrequency, selfRelease });
    return c.redirect('/viewer/admin?done=settings', 303);
  })
  .get('/admin/requests', async (c) => {
    const session = c.get('session');
    const { requests, store } = c.get('deps');
    const pending = requests.pending();
    const held = new Map((await Promise.all(pending.map((r) => store.get(r.messageId)))).flatMap((e) => (e ? [[e.id, e] as const] : [])));
    return c.html(
      <Layout title="Release requests" user={session.user} csrfToken={session.csrfToken}>
        <h1>Release requests</h1>
        <Notice kind="ok" text={REQUEST_DONE[c.req.query('done') ?? '']} />
        <Table labels={['Asked', 'By', 'Message', 'Reason', '']}>
          {pending.map((request) => {
            const entry = held.get(request.messageId);
            return (
              <tr>
                <td>{utcClock(request.requestedAt, true)}</td>
                <td>
                  {request.username} <span class="muted">for {request.recipients.join(', ')}</span>
                </td>
                <td>
                  {entry ? (
                    <a href={`/viewer/messages/${entry.id}`}>{displayText(subjectShown(entry))}</a>
                  ) : (
                    <span class="muted">no longer in the quarantine</span>
                  )}
                  {entry && <span class="muted"> from {displayText(senderShown(entry))}</span>}
                </td>
                <td>
                  {entry ? (
                    <>
                      <span class={`reason ${entry.reason}`}>{entry.reason}</span> <span class="muted">{displayText(entry.detail)}</span>
                    </>
                  ) : (
                    ''
                  )}
                </td>
                <td>
                  <span class="actions">
                    {entry && (
                      <PostButton action={`/viewer/admin/requests/${request.id}/approve`} token={session.csrfToken} inline>
                        Approve
                      </PostButton>
                    )}
                    <PostButton action={`/viewer/admin/requests/${request.id}/deny`} token={session.csrfToken} kind="danger" inline>
                      Deny
                    </PostButton>
                  </span>
                </td>
              </tr>
            );
          })}
        </Table>
        {pending.length === 0 && <p class="muted">No request waits for you.</p>}
      </Layout>,
    );
  })
  .post('/admin/requests/:id/:decision{approve|deny}', async (c) => {
    const approve = c.req.param('decision') === 'approve';
    await decideRequest(c.get('deps'), actorOf(c), Number(c.req.param('id')), approve);
    return c.redirect(`/viewer/admin/requests?done=${approve ? 'approved' : 'denied'}`, 303);
  })
  .get('/admin/audit', (c) => {
    const session = c.get('session');
    const { audit } = c.get('deps');
    const search = (c.req.query('q') ?? '').trim().slice(0, 200) || undefined;
    const total = audit.count(search);
    const page = pageNumber(c.req.query('page'), total, AUDIT_PAGE);
    const records = audit.list({ limit: AUDIT_PAGE, offset: (page - 1) * AUDIT_PAGE, search });
    const pageLink = (p: number) => `/viewer/admin/audit?${new URLSearchParams({ ...(search ? { q: search } : {}), page: String(p) })}`;
    return c.html(
      <Layout title="Audit log" user={session.user} csrfToken={session.csrfToken}>
        <h1>Audit log</h1>
        <form method="get" action="/viewer/admin/audit" class="filters">
          <input type="search" name="q" value={search ?? ''} placeholder="Message id, user or action" aria-label="Search" />
          <button type="submit">Filter</button>
        </form>
        <Table labels={['When (UTC)', 'Who', 'Action', 'Message', 'Details', 'From']} class="audit">
          {records.map((r) => (
            <tr>
              <td>{utcClock(r.at, true)}</td>
              <td>{r.actor}</td>
              <td>{r.action}</td>
              <td>{r.messageId}</td>
              <td>{r.detail}</td>
              <td>{r.client}</td>
            </tr>
          ))}
        </Table>
        <div class="pager">
          {page > 1 && <a href={pageLink(page - 1)}>← Newer</a>}
          <span class="muted">
            {total} record{total === 1 ? '' : 's'}
          </span>
          {page * AUDIT_PAGE < total && <a href={pageLink(page + 1)}>Older →</a>}
        </div>
      </Layout>,
    );
  })
  .get('/admin/users', (c) => {
    const session = c.get('session');
    const { accounts, config } = c.get('deps');
    return c.html(
      <Layout title="Users" user={session.user} csrfToken={session.csrfToken}>
        <h1>Users</h1>
        <Notice kind="ok" text={DONE[c.req.query('done') ?? '']} />
        {config.viewer.loginMethod === 'local' && (
          <p>
            <a href="/viewer/admin/users/new">Add User</a>
          </p>
        )}
        <Table labels={['User', 'Addresses', 'Account', '']}>
          {accounts.list().map((user) => (
            <tr>
              <td>
                <a href={`/viewer/admin/users/${user.id}`}>{user.username}</a>
              </td>
              <td>{user.isAdmin ? 'all (administrator)' : user.addresses.join(', ')}</td>
              <td>{user.source === 'ldap' ? 'directory' : 'local'}</td>
              <td>
                {!user.isAdmin && (
                  <span class="actions">
                    <a href={`/viewer/messages?user=${user.id}`}>Messages</a>
                    <PostButton action={`/viewer/admin/users/${user.id}/delete`} token={session.csrfToken} kind="danger" inline>
                      Delete
                    </PostButton>
                  </span>
                )}
              </td>
            </tr>
          ))}
        </Table>
      </Layout>,
    );
  })
  .get('/admin/users/new', (c) => c.html(<UserForm c={c} />))
  .post('/admin/users/new', async (c) => {
    const { accounts, config } = c.get('deps');
    if (config.viewer.loginMethod === 'ldap') throw new HttpError(400, 'With directory login, users come from the directory (mailfilter directory-sync).');
    const form = await formOf(c);
    const values = { username: form.username ?? '', addresses: form.addresses ?? '' };
    const again = (error: string) => c.html(<UserForm c={c} error={error} values={values} />, 400);
    const username = values.username.trim();
    if (!USERNAME.test(username)) return again('A user name has 1 to 64 letters, digits or . _ @ + -');
    if (accounts.findByName(username)) return again(`There is already a user ${username}.`);
    if (!isLongEnough(form.password ?? '')) return again(`The password must have ${PASSWORD_RULE}.`);
    const { addresses, bad } = parseAddresses(values.addresses);
    if (bad.length) return again(`Not an e-mail address: ${bad.join(', ')}`);
    try {
      await createUser(c.get('deps'), actorOf(c), { username, password: form.password!, addresses });
    } catch (err) {
      if (err instanceof AddressTakenError) return again(`${err.address} already belongs to ${err.owner}; an address has one owner.`);
      throw err;
    }
    return c.redirect('/viewer/admin/users?done=saved', 303);
  })
  .get('/admin/users/:id', (c) => {
    const user = c.get('deps').accounts.get(Number(c.req.param('id')));
    if (!user) throw new HttpError(404, 'No such user.');
    return c.html(<UserForm c={c} user={user} />);
  })
  .post('/admin/users/:id', async (c) => {
    const { accounts } = c.get('deps');
    const user = accounts.get(Number(c.req.param('id')));
    if (!user) throw new HttpError(404, 'No such user.');
    const form = await formOf(c);
    const again = (error: string) => c.html(<UserForm c={c} user={user} error={error} values={{ addresses: form.addresses ?? '' }} />, 400);
    // Every field is checked before anything is saved: a refused form changes nothing.
    const changes: UserChanges = {};
    if (!user.isAdmin) {
      const { addresses, bad } = parseAddresses(form.addresses ?? '');
      if (bad.length) return again(`Not an e-mail address: ${bad.join(', ')}`);
      changes.addresses = addresses;
    }
    if (!user.isAdmin && form.frequency !== undefined) {
      if (form.frequency !== 'default' && !isFrequency(form.frequency)) return again('Choose a digest frequency.');
      changes.frequency = form.frequency === 'default' ? null : form.frequency;
    }
    if (form.password && user.source === 'local' && !user.isAdmin) {
      if (!isLongEnough(form.password)) return again(`The password must have ${PASSWORD_RULE}.`);
      changes.password = form.password;
    }
    try {
      await editUser(c.get('deps'), actorOf(c), user, changes);
    } catch (err) {
      if (err instanceof AddressTakenError) return again(`${err.address} already belongs to ${err.owner}; an address has one owner.`);
      throw err;
    }
    return c.redirect('/viewer/admin/users?done=saved', 303);
  })
  .post('/admin/users/:id/delete', (c) => {
    deleteUser(c.get('deps'), actorOf(c), Number(c.req.param('id')));
    return c.redirect('/viewer/admin/users?done=deleted', 303);
  });
