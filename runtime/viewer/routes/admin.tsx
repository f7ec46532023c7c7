// The administration console (vadmin): statistics, clearing the quarantine, viewer users, and the
// DKIM record to publish.
import { Hono } from 'hono';
import type { MiddlewareHandler } from 'hono';
import { AddressTakenError, type ViewerUser } from '../../accounts/viewer-accounts.js';
import { actorOf, formOf, HttpError, type ViewerContext, type ViewerEnv } from '../context.js';
import { decideRequest } from '../../actions/quarantine-actions.js';
import { clearQuarantine } from '../../actions/bulk-actions.js';
import { createUser, deleteUser, editUser, type UserChanges } from '../../actions/account-actions.js';
import { saveAdminSettings } from '../../actions/settings-actions.js';
import { pageNumber } from '../paging.js';
import { isFrequency } from '../../actions/settings.js';
import { CATEGORIES, type Category } from '../../config/schema.js';
import { utcDay } from '../../time/utc.js';
import { isEmailAddress } from '../../mail/address.js';
import { isLongEnough, PASSWORD_RULE } from '../../accounts/password-rule.js';
import { readSetAside } from '../../fetch/set-aside.js';
import { dkimPublication } from '../../checks/auth-dkim-record.js';
import { ConsolePage, type SetAsideState } from '../views/admin-console.js';
import { AuditPage, AUDIT_PAGE, RequestsPage } from '../views/admin-records.js';
import { UserForm, UsersPage } from '../views/admin-users.js';
import { DeleteAllPage } from '../views/delete-all-page.js';

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

/** Fetch mode's set-aside messages for the console (the cluster's, with a shared database), read as `mailfilter status` reads them. */
async function setAsideOf(c: ViewerContext): Promise<SetAsideState> {
  const { config, shared } = c.get('deps');
  if (config.mail.mode !== 'fetchmail') return null;
  try {
    return await readSetAside(config, { shared });
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** The add or edit form, with what only the server knows: the login method and the user's digest. */
async function userForm(c: ViewerContext, props: { user?: ViewerUser; error?: string; values?: { username?: string; addresses?: string } }) {
  const { config, settings } = c.get('deps');
  const frequency = props.user ? await settings.userFrequency(props.user.id) : null;
  return <UserForm session={c.get('session')} ldap={config.viewer.loginMethod === 'ldap'} frequency={frequency} {...props} />;
}

export const adminRoutes = new Hono<ViewerEnv>()
  .use('/admin/*', adminOnly)
  .use('/admin', adminOnly)
  .get('/admin', async (c) => {
    const { store, requests, settings, nodes } = c.get('deps');
    const since = utcDay(Date.now() - 13 * 86400_000);
    const [outcomes, door, used, held, cluster, pending, adminSettings, setAside] = await Promise.all([
      store.dailyOutcomes(since),
      store.dailyDoor(since),
      store.totalBytes(),
      store.count(),
      nodes?.(),
      requests.pending(),
      settings.admin(),
      setAsideOf(c),
    ]);
    return c.html(
      <ConsolePage
        session={c.get('session')}
        done={c.req.query('done')}
        since={since}
        outcomes={outcomes}
        door={door}
        quarantine={{ bytes: used, limitBytes: store.limitBytes, count: held }}
        pending={pending.length}
        setAside={setAside}
        dkim={dkimPublication(c.get('deps').config)}
        settings={adminSettings}
        nodes={cluster}
      />,
    );
  })
  .get('/admin/clear', async (c) => {
    const { store } = c.get('deps');
    const [count, bytes] = await Promise.all([store.count(), store.totalBytes()]);
    return c.html(
      <DeleteAllPage
        session={c.get('session')}
        title="Clear the quarantine?"
        heading="Clear the whole quarantine?"
        text={
          count === 0
            ? 'The quarantine is empty.'
            : `All ${count} message${count === 1 ? '' : 's'} (${(bytes / 1024 / 1024).toFixed(1)} MB), of every user, will be deleted, and pending release requests can no longer be approved. This cannot be undone.`
        }
        count={count}
        button={`Delete all ${count} message${count === 1 ? '' : 's'}`}
        action="/viewer/admin/clear"
        back="/viewer/admin"
        backLabel="Back to the console"
      />,
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
    await saveAdminSettings(c.get('deps'), actorOf(c), { digestFrequency: form.digestFrequency, selfRelease });
    return c.redirect('/viewer/admin?done=settings', 303);
  })
  .get('/admin/requests', async (c) => {
    const { requests, store } = c.get('deps');
    const pending = await requests.pending();
    const held = new Map((await Promise.all(pending.map((r) => store.get(r.messageId)))).flatMap((e) => (e ? [[e.id, e] as const] : [])));
    return c.html(<RequestsPage session={c.get('session')} done={c.req.query('done')} pending={pending} entryOf={(id) => held.get(id)} />);
  })
  .post('/admin/requests/:id/:decision{approve|deny}', async (c) => {
    const approve = c.req.param('decision') === 'approve';
    await decideRequest(c.get('deps'), actorOf(c), Number(c.req.param('id')), approve);
    return c.redirect(`/viewer/admin/requests?done=${approve ? 'approved' : 'denied'}`, 303);
  })
  .get('/admin/audit', async (c) => {
    const session = c.get('session');
    const { audit } = c.get('deps');
    const search = (c.req.query('q') ?? '').trim().slice(0, 200) || undefined;
    const total = await audit.count(search);
    const page = pageNumber(c.req.query('page'), total, AUDIT_PAGE);
    const records = await audit.list({ limit: AUDIT_PAGE, offset: (page - 1) * AUDIT_PAGE, search });
    const pageLink = (p: number) => `/viewer/admin/audit?${new URLSearchParams({ ...(search ? { q: search } : {}), page: String(p) })}`;
    return c.html(<AuditPage session={session} search={search} records={records} page={page} total={total} pageLink={pageLink} />);
  })
  .get('/admin/users', async (c) => {
    const { accounts, config } = c.get('deps');
    const users = await accounts.list();
    return c.html(<UsersPage session={c.get('session')} done={c.req.query('done')} ldap={config.viewer.loginMethod !== 'local'} users={users} />);
  })
  .get('/admin/users/new', async (c) => c.html(await userForm(c, {})))
  .post('/admin/users/new', async (c) => {
    const { accounts, config } = c.get('deps');
    if (config.viewer.loginMethod === 'ldap') throw new HttpError(400, 'With directory login, users come from the directory (mailfilter directory-sync).');
    const form = await formOf(c);
    const values = { username: form.username ?? '', addresses: form.addresses ?? '' };
    const again = async (error: string) => c.html(await userForm(c, { error, values }), 400);
    const username = values.username.trim();
    if (!USERNAME.test(username)) return again('A user name has 1 to 64 letters, digits or . _ @ + -');
    if (await accounts.findByName(username)) return again(`There is already a user ${username}.`);
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
  .get('/admin/users/:id', async (c) => {
    const user = await c.get('deps').accounts.get(Number(c.req.param('id')));
    if (!user) throw new HttpError(404, 'No such user.');
    return c.html(await userForm(c, { user }));
  })
  .post('/admin/users/:id', async (c) => {
    const { accounts } = c.get('deps');
    const user = await accounts.get(Number(c.req.param('id')));
    if (!user) throw new HttpError(404, 'No such user.');
    const form = await formOf(c);
    const again = async (error: string) => c.html(await userForm(c, { user, error, values: { addresses: form.addresses ?? '' } }), 400);
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
  .post('/admin/users/:id/delete', async (c) => {
    await deleteUser(c.get('deps'), actorOf(c), Number(c.req.param('id')));
    return c.redirect('/viewer/admin/users?done=deleted', 303);
  });
