// Log in and out, and changing one's own password (forced for vadmin's initial one).
import { Hono } from 'hono';
import { getCookie, setCookie, deleteCookie } from 'hono/cookie';
import { randomBytes } from 'node:crypto';
import { Layout, CsrfField, Notice } from '../views/layout.js';
import { ADMIN_USER } from '../accounts.js';
import { verifyPassword } from '../passwords.js';
import { formOf, HttpError, type ViewerContext, type ViewerEnv } from '../context.js';
import { clientAddress, SESSION_COOKIE, LOGIN_CSRF_COOKIE, cookieOptions, sameToken } from '../security.js';

const FAILURE_WINDOW_MS = 15 * 60_000;
const MAX_FAILURES_PER_USER = 5;
const MAX_FAILURES_PER_ADDRESS = 20;

const LoginPage = ({ token, error, username }: { token: string; error?: string; username?: string }) => (
  <Layout title="Log in">
    <div class="login card">
      <h1>Log in</h1>
      <Notice kind="error" text={error} />
      <form method="post" action="/viewer/login">
        <input type="hidden" name="_csrf" value={token} />
        <label for="username">User name or e-mail address</label>
        <input id="username" name="username" type="text" autocomplete="username" value={username ?? ''} required autofocus />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
        <p><button type="submit">Log in</button></p>
      </form>
    </div>
  </Layout>
);

function loginPage(c: ViewerContext, status: 200 | 401 | 429, error?: string, username?: string) {
  const token = randomBytes(24).toString('base64url');
  setCookie(c, LOGIN_CSRF_COOKIE, token, cookieOptions(c, 600));
  return c.html(<LoginPage token={token} error={error} username={username} />, status);
}

export const loginRoutes = new Hono<ViewerEnv>()
  .get('/login', (c) => loginPage(c, 200))
  .post('/login', async (c) => {
    const { accounts, authenticate } = c.get('deps');
    const form = await formOf(c);
    if (!sameToken(form._csrf, getCookie(c, LOGIN_CSRF_COOKIE))) return loginPage(c, 401, 'Your login form expired; please try again.');
    const username = (form.username ?? '').trim().slice(0, 320);
    const ip = clientAddress(c);
    const userKey = `user:${username.toLowerCase()}|${ip}`;
    if (accounts.recentFailures(userKey, FAILURE_WINDOW_MS) >= MAX_FAILURES_PER_USER || accounts.recentFailures(`ip:${ip}`, FAILURE_WINDOW_MS) >= MAX_FAILURES_PER_ADDRESS) {
      return loginPage(c, 429, 'Too many failed logins. Wait 15 minutes and try again.', username);
    }
    const user = username && form.password ? await authenticate(username, form.password) : null;
    if (!user) {
      accounts.recordFailure(userKey);
      accounts.recordFailure(`ip:${ip}`);
      return loginPage(c, 401, 'Wrong user name or password.', username);
    }
    accounts.clearFailures(userKey);
    const session = accounts.createSession(user.id);
    deleteCookie(c, LOGIN_CSRF_COOKIE, { path: '/viewer' });
    setCookie(c, SESSION_COOKIE, session.token, cookieOptions(c));
    return c.redirect(user.mustChangePassword ? '/viewer/account/password' : user.isAdmin ? '/viewer/admin' : '/viewer/messages', 303);
  })
  .post('/logout', (c) => {
    c.get('deps').accounts.endSession(getCookie(c, SESSION_COOKIE));
    deleteCookie(c, SESSION_COOKIE, { path: '/viewer' });
    return c.redirect('/viewer/login', 303);
  });

const PasswordPage = ({ c, error, forced }: { c: ViewerContext; error?: string; forced: boolean }) => {
  const { user, csrfToken } = c.get('session');
  return (
    <Layout title="Change password" user={user} csrfToken={csrfToken}>
      <div class="card">
        <h1>Change password</h1>
        {forced && <p class="notice error">{user.username} still has its initial password. Choose a new one before going on.</p>}
        <Notice kind="error" text={error} />
        <form method="post" action="/viewer/account/password">
          <CsrfField token={csrfToken} />
          <label for="current">Current password</label>
          <input id="current" name="current" type="password" autocomplete="current-password" required />
          <label for="next">New password (at least 10 characters)</label>
          <input id="next" name="next" type="password" autocomplete="new-password" required />
          <label for="again">New password again</label>
          <input id="again" name="again" type="password" autocomplete="new-password" required />
          <p><button type="submit">Change password</button></p>
        </form>
      </div>
    </Layout>
  );
};

export const accountRoutes = new Hono<ViewerEnv>()
  .get('/account/password', (c) => c.html(<PasswordPage c={c} forced={c.get('session').user.mustChangePassword} />))
  .post('/account/password', async (c) => {
    const { accounts } = c.get('deps');
    const { user } = c.get('session');
    if (user.source !== 'local') throw new HttpError(400, 'Directory accounts change their password in the directory.');
    const form = await formOf(c);
    const stored = accounts.findByName(user.username);
    const render = (error: string) => c.html(<PasswordPage c={c} error={error} forced={user.mustChangePassword} />, 400);
    if (!stored?.passwordHash || !(await verifyPassword(form.current ?? '', stored.passwordHash))) return render('The current password is wrong.');
    const next = form.next ?? '';
    if (next.length < 10) return render('The new password must have at least 10 characters.');
    if (next !== form.again) return render('The two new passwords differ.');
    if (user.username === ADMIN_USER && next === 'password') return render('Choose a password other than the initial one.');
    await accounts.setPassword(user.id, next);
    return c.redirect(user.isAdmin ? '/viewer/admin?done=password' : '/viewer/messages?done=password', 303);
  });
