// The administrator's users: the list, and the form that adds or edits one.
import type { Session, ViewerUser } from '../../accounts/viewer-accounts.js';
import type { DigestFrequency } from '../../actions/settings.js';
import { CsrfField, Layout, Notice, PostButton, SubmitButton, Table } from './layout.js';
import { FrequencySelect } from './digest-page.js';
import { ADMIN_DONE } from './admin-console.js';

export function UsersPage({ session, done, ldap, users }: { session: Session; done?: string; ldap: boolean; users: ViewerUser[] }) {
  return (
    <Layout title="Users" user={session.user} csrfToken={session.csrfToken}>
      <h1>Users</h1>
      <Notice kind="ok" text={ADMIN_DONE[done ?? '']} />
      {!ldap && (
        <p>
          <a href="/viewer/admin/users/new">Add User</a>
        </p>
      )}
      <Table labels={['User', 'Addresses', 'Account', '']}>
        {users.map((user) => (
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
    </Layout>
  );
}

export function UserForm({
  session,
  ldap,
  user,
  frequency,
  error,
  values,
}: {
  session: Session;
  /** Logins go to the directory. */
  ldap: boolean;
  user?: ViewerUser;
  /** The user's own digest setting; null: as set for everyone. */
  frequency?: DigestFrequency | null;
  error?: string;
  values?: { username?: string; addresses?: string };
}) {
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
            <textarea id="addresses" name="addresses">
              {values?.addresses ?? user?.addresses.join('\n') ?? ''}
            </textarea>
          </>
        )}
        {user && !user.isAdmin && (
          <>
            <label for="frequency">Quarantine digest</label>
            <FrequencySelect current={frequency ?? null} defaultLabel="As set for everyone" />
          </>
        )}
        <SubmitButton>Save</SubmitButton>
      </form>
    </Layout>
  );
}
