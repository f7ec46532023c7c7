// Log in and out, and changing one's own password (forced for vadmin's initial one).
import { Hono } from 'hono';
import { getCookie, setCookie, deleteCookie } from 'hono/cookie';
import { randomBytes } from 'node:crypto';
import { LoginPage, PasswordPage } from '../views/login-pages.js';
import { ADMIN_USER } from '../../accounts/viewer-accounts.js';
import { verifyPassword } from '../../accounts/passwords.js';
import { actorOf, clientAddress, formOf, HttpError, type ViewerContext, type ViewerEnv } from '../context.js';
import { isLoopback, SESSION_COOKIE, LOGIN_CSRF_COOKIE, cookieOptions, sameToken } from '../security.js';
import { reserveLoginAttempt, waitInWords } from '../login-limits.js';
import { changeOwnPassword, logIn, loginRefused, logOut } from '../../actions/account-actions.js';
import { isLongEnough, PASSWORD_RULE } from '../../accounts/password-rule.js';

function loginPage(c: ViewerContext, status: 200 | 401 | 403 | 429, error?: string, username?: string) {
  const token = randomBytes(24).toString('base64url');
  setCookie(c, LOGIN_CSRF_COOKIE, token, cookieOptions(c, 600));
  return c.html(<LoginPage token={token} error={error} username={username} />, status);
}

export const loginRoutes = new Hono<ViewerEnv>()
  .get('/login', (c) => loginPage(c, 200))
  .post('/login', async (c) => {
    const deps = c.get('deps');
    const { accounts, authenticate } = deps;
    const form = await formOf(c);
    if (!sameToken(form._csrf, getCookie(c, LOGIN_CSRF_COOKIE))) return loginPage(c, 401, 'Your login form expired; please try again.');
    const username = (form.username ?? '').trim().slice(0, 320);
    const ip = clientAddress(c);
    // Until the wizard has set vadmin's password, "password" is known to everyone on the network.
    if (username.toLowerCase() === ADMIN_USER && (await accounts.adminPasswordIsInitial()) && !isLoopback(ip)) {
      await loginRefused(deps, username, ip, 'vadmin still has its initial password: only from the appliance itself', true);
      return loginPage(
        c,
        403,
        'vadmin still has its initial password, so it may log in only from the appliance itself. Run the setup wizard (mailfilter configure) on the console: it sets vadmin’s password.',
        username,
      );
    }
    const attempt = await reserveLoginAttempt(accounts, username, ip);
    if (!attempt.allowed) {
      await loginRefused(deps, username, ip, 'rate limited', true);
      c.header('Retry-After', String(attempt.retryAfterSeconds));
      return loginPage(c, 429, `Too many failed logins. Wait ${waitInWords(attempt.retryAfterSeconds)} and try again.`, username);
    }
    const user = username && form.password ? await authenticate(username, form.password, ip) : null;
    if (!user) {
      await loginRefused(deps, username, ip, 'wrong user name or password');
      return loginPage(c, 401, 'Wrong user name or password.', username);
    }
    await attempt.succeeded();
    const session = await logIn(deps, user, ip);
    deleteCookie(c, LOGIN_CSRF_COOKIE, { path: '/viewer' });
    setCookie(c, SESSION_COOKIE, session.token, cookieOptions(c));
    return c.redirect(user.mustChangePassword ? '/viewer/account/password' : user.isAdmin ? '/viewer/admin' : '/viewer/messages', 303);
  })
  .post('/logout', async (c) => {
    await logOut(c.get('deps'), c.get('session')?.user, getCookie(c, SESSION_COOKIE), clientAddress(c));
    deleteCookie(c, SESSION_COOKIE, { path: '/viewer' });
    return c.redirect('/viewer/login', 303);
  });

export const accountRoutes = new Hono<ViewerEnv>()
  .get('/account/password', (c) => c.html(<PasswordPage session={c.get('session')} forced={c.get('session').user.mustChangePassword} />))
  .post('/account/password', async (c) => {
    const deps = c.get('deps');
    const { user } = c.get('session');
    if (user.source !== 'local') throw new HttpError(400, 'Directory accounts change their password in the directory.');
    const form = await formOf(c);
    const stored = await deps.accounts.findByName(user.username);
    const render = (error: string, status: 400 | 429 = 400) =>
      c.html(<PasswordPage session={c.get('session')} error={error} forced={user.mustChangePassword} />, status);
    // A stolen session must not become a way round the login's limits on guessing the password.
    const attempt = await reserveLoginAttempt(deps.accounts, user.username, clientAddress(c));
    if (!attempt.allowed) {
      await loginRefused(deps, user.username, clientAddress(c), 'rate limited (change password form)', true);
      return render(`Too many wrong passwords. Wait ${waitInWords(attempt.retryAfterSeconds)} and try again.`, 429);
    }
    if (!stored?.passwordHash || !(await verifyPassword(form.current ?? '', stored.passwordHash))) {
      await loginRefused(deps, user.username, clientAddress(c), 'wrong current password (change password form)');
      return render('The current password is wrong.');
    }
    await attempt.succeeded();
    const next = form.next ?? '';
    if (!isLongEnough(next)) return render(`The new password must have ${PASSWORD_RULE}.`);
    if (next !== form.again) return render('The two new passwords differ.');
    if (user.username === ADMIN_USER && next === 'password') return render('Choose a password other than the initial one.');
    const session = await changeOwnPassword(deps, actorOf(c), next);
    setCookie(c, SESSION_COOKIE, session.token, cookieOptions(c));
    return c.redirect(user.isAdmin ? '/viewer/admin?done=password' : '/viewer/messages?done=password', 303);
  });
