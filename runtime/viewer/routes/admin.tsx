// The administration console (vadmin): statistics, clearing the quarantine, and viewer users.
import { Hono } from 'hono';
import type { MiddlewareHandler } from 'hono';
import { Layout, CsrfField, Notice, PostButton } from '../views/layout.js';
import { StatsChart, SizeBar } from '../views/stats-chart.js';
import { AddressTakenError, type ViewerUser } from '../accounts.js';
import { formOf, HttpError, type ViewerContext, type ViewerEnv } from '../context.js';

const adminOnly: MiddlewareHandler<ViewerEnv> = async (c, next) => {
  if (!c.get('session').user.isAdmin) throw new HttpError(403, 'Only the administrator may do this.');
  return next();
};

const ADDRESS = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;
const USERNAME = /^[A-Za-z0-9._@+-]{1,64}$/;

function parseAddresses(text: string): { addresses: string[]; bad: string[] } {
  const lines = text.split(/[\r\n,]+/).map((l) => l.trim()).filter(Boolean);
  return { addresses: lines.filter((l) => ADDRESS.test(l)), bad: lines.filter((l) => !ADDRESS.test(l)) };
}

const DONE: Record<string, string> = {
  password: 'Password changed.',
  cleared: 'The quarantine was cleared.',
  saved: 'User saved.',
  deleted: 'User deleted.',
};

function UserForm({ c, user, error, values }: { c: ViewerContext; user?: ViewerUser; error?: string; values?: { username?: string; addresses?: string } }) {
  const session = c.get('session');
  const ldap = c.get('deps').config.viewer.loginMethod === 'ldap';
  const local = !user || user.source === 'local';
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
            <textarea id="addresses" name="addresses">{values?.addresses ?? user?.addresses.join('\n') ?? ''}</textarea>
          </>
        )}
        <p><button type="submit">Save</button></p>
      </form>
    </Layout>
  );
}

export const adminRoutes = new Hono<ViewerEnv>()
  .use('/admin/*', adminOnly)
  .use('/admin', adminOnly)
  .get('/admin', (c) => {
    const session = c.get('session');
    const { store } = c.get('deps');
    const since = new Date(Date.now() - 13 * 86400_000).toISOString().slice(0, 10);
    return c.html(
      <Layout title="Administration" user={session.user} csrfToken={session.csrfToken}>
        <h1>Administration console</h1>
        <Notice kind="ok" text={DONE[c.req.query('done') ?? '']} />
        <div class="card">
          <h2>Mail in the last 14 days</h2>
          <StatsChart rows={store.dailyOutcomes(since)} since={since} days={14} />
        </div>
        <div class="card">
          <h2>Quarantine</h2>
          <SizeBar used={store.totalBytes()} limit={store.limitBytes} count={store.count()} />
          <p class="actions">
            <a href="/viewer/messages">See all messages</a>
            <a href="/viewer/admin/users">Users</a>
            <a href="/viewer/account/password">Change vadmin’s password</a>
          </p>
          <PostButton action="/viewer/admin/clear" token={session.csrfToken} kind="danger">Clear the whole quarantine</PostButton>
        </div>
      </Layout>,
    );
  })
  .post('/admin/clear', async (c) => {
    await c.get('deps').store.deleteMatching({});
    return c.redirect('/viewer/admin?done=cleared', 303);
  })
  .get('/admin/users', (c) => {
    const session = c.get('session');
    const { accounts, config } = c.get('deps');
    return c.html(
      <Layout title="Users" user={session.user} csrfToken={session.csrfToken}>
        <h1>Users</h1>
        <Notice kind="ok" text={DONE[c.req.query('done') ?? '']} />
        {config.viewer.loginMethod === 'local' && <p><a href="/viewer/admin/users/new">Add User</a></p>}
        <table>
          <thead><tr><th>User</th><th>Addresses</th><th>Account</th><th></th></tr></thead>
          <tbody>
            {accounts.list().map((user) => (
              <tr>
                <td><a href={`/viewer/admin/users/${user.id}`}>{user.username}</a></td>
                <td>{user.isAdmin ? 'all (administrator)' : user.addresses.join(', ')}</td>
                <td>{user.source === 'ldap' ? 'directory' : 'local'}</td>
                <td>
                  {!user.isAdmin && (
                    <span class="actions">
                      <a href={`/viewer/messages?user=${user.id}`}>Messages</a>
                      <PostButton action={`/viewer/admin/users/${user.id}/delete`} token={session.csrfToken} kind="danger" inline>Delete</PostButton>
                    </span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
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
    if ((form.password ?? '').length < 10) return again('The password must have at least 10 characters.');
    const { addresses, bad } = parseAddresses(values.addresses);
    if (bad.length) return again(`Not an e-mail address: ${bad.join(', ')}`);
    try {
      await accounts.create({ username, password: form.password!, source: 'local', addresses });
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
    if (!user.isAdmin) {
      const { addresses, bad } = parseAddresses(form.addresses ?? '');
      if (bad.length) return again(`Not an e-mail address: ${bad.join(', ')}`);
      try {
        accounts.setAddresses(user.id, addresses);
      } catch (err) {
        if (err instanceof AddressTakenError) return again(`${err.address} already belongs to ${err.owner}; an address has one owner.`);
        throw err;
      }
    }
    if (form.password && user.source === 'local' && !user.isAdmin) {
      if (form.password.length < 10) return again('The password must have at least 10 characters.');
      await accounts.setPassword(user.id, form.password);
      accounts.endSessionsOf(user.id);
    }
    return c.redirect('/viewer/admin/users?done=saved', 303);
  })
  .post('/admin/users/:id/delete', (c) => {
    const { accounts } = c.get('deps');
    accounts.delete(Number(c.req.param('id')));
    return c.redirect('/viewer/admin/users?done=deleted', 303);
  });
