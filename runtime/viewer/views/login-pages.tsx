// The login page and the password change page.
import { Layout, CsrfField, Notice, SubmitButton } from './layout.js';
import type { Session } from '../../accounts/viewer-accounts.js';
import { PASSWORD_RULE } from '../../accounts/password-rule.js';

/** A labelled, required password input; autocomplete tells a password manager which password it wants. */
const PasswordField = ({ name, label, autocomplete }: { name: string; label: string; autocomplete: 'current-password' | 'new-password' }) => (
  <>
    <label for={name}>{label}</label>
    <input id={name} name={name} type="password" autocomplete={autocomplete} required />
  </>
);

export const LoginPage = ({ token, error, username }: { token: string; error?: string; username?: string }) => (
  <Layout title="Log in">
    <div class="login card">
      <h1>Log in</h1>
      <Notice kind="error" text={error} />
      <form method="post" action="/viewer/login">
        <input type="hidden" name="_csrf" value={token} />
        <label for="username">User name or e-mail address</label>
        <input id="username" name="username" type="text" autocomplete="username" value={username ?? ''} required autofocus />
        <PasswordField name="password" label="Password" autocomplete="current-password" />
        <SubmitButton>Log in</SubmitButton>
      </form>
    </div>
  </Layout>
);

export const PasswordPage = ({ session, error, forced }: { session: Session; error?: string; forced: boolean }) => {
  const { user, csrfToken } = session;
  return (
    <Layout title="Change password" user={user} csrfToken={csrfToken}>
      <div class="card">
        <h1>Change password</h1>
        {forced && <p class="notice error">{user.username} still has its initial password. Choose a new one before going on.</p>}
        <Notice kind="error" text={error} />
        <form method="post" action="/viewer/account/password">
          <CsrfField token={csrfToken} />
          <PasswordField name="current" label="Current password" autocomplete="current-password" />
          <PasswordField name="next" label={`New password (${PASSWORD_RULE})`} autocomplete="new-password" />
          <PasswordField name="again" label="New password again" autocomplete="new-password" />
          <SubmitButton>Change password</SubmitButton>
        </form>
      </div>
    </Layout>
  );
};
